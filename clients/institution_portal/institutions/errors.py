"""Why a change to the institutions registry was refused."""

from __future__ import annotations


class InstitutionError(Exception):
    """A change to the registry of institutions that could not be made."""


class UnknownInstitution(InstitutionError):
    """No institution in the registry has that DLI number (sync it from Passerelle first)."""


class InvalidProvince(InstitutionError):
    """Not one of the two-letter codes of Canada's provinces and territories."""
