"""The token INSERT the driver path compiles (idp.oidc.driver_sql, token_server) names exactly
the columns TokenService.issue gives it: a column added to issue() but not to
INSERT_TOKEN_KEYS would be dropped silently before Flask."""

from __future__ import annotations

from datetime import UTC, datetime

from idp.config import Settings
from idp.oidc.token_queries import INSERT_TOKEN, INSERT_TOKEN_KEYS, GrantContext
from idp.oidc.tokens import TokenService
from idp.security.secrets import KeyedHasher


class RecordingConnection:
    def __init__(self):
        self.calls = []

    def execute(self, statement, params):
        self.calls.append((statement, params))


def test_issue_gives_the_insert_exactly_the_prepared_columns():
    connection = RecordingConnection()
    settings = Settings({"OIDC_ACCESS_TOKEN_TTL": 300, "OIDC_REFRESH_TOKEN_TTL": 3600})
    tokens = TokenService(None, settings, lambda: datetime(2026, 12, 7, tzinfo=UTC), KeyedHasher("k" * 32),
                          connection=connection)
    context = GrantContext(grant_id="g", client_id="c", user_id=1, session_id=1, scope="openid offline_access")
    tokens.issue(context, include_refresh_token=True)
    [(statement, params)] = connection.calls
    assert statement is INSERT_TOKEN
    assert tuple(params) == INSERT_TOKEN_KEYS
