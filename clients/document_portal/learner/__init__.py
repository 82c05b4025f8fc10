"""The learner's « Mes documents »: list, view, download and verify their own documents."""
