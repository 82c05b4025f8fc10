"""Why a learner's document cannot be shown."""

from __future__ import annotations


class LearnerError(Exception):
    """A learner's request about a document that did not succeed."""


class DocumentNotFound(LearnerError):
    """No document with that public id belongs to this learner. Another learner's document is
    "not found" too, never "forbidden": a guessed id learns nothing."""
