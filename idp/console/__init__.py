"""The operators' console and the service desk (issue 16): /admin, for accounts holding a
role, behind a recent security key or passkey."""
