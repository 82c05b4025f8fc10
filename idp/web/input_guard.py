"""Refuse NUL characters in any parameter before a view runs.

PostgreSQL text cannot hold NUL (0x00) and no legitimate OAuth or form value contains one,
so such a request is malformed: 400 here instead of a database error (a 500) later.
"""

from __future__ import annotations

from flask import Flask, abort, request


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    if "\x00" in request.headers.get("Authorization", ""):
        abort(400)
