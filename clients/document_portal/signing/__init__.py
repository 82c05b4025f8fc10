"""Signing services of the document portal, without Flask or a database: intake checks on
uploaded PDFs (intake.py), transcript rendering (transcript.py), a school's credentials
(credentials.py, settings.py), PAdES signing (pades.py), verification (verification.py),
and the demo certificate authority of `make run` and the tests (demo_pki.py).
"""
