"""Error pages (stub: replaced by the sign-in/UI work)."""


def init_app(app) -> None:
    pass
