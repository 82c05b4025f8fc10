"""Share links: a learner lets a third party see one document, without an account."""
