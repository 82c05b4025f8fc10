"""The token endpoint's statements on the database driver's own cursor (issue 10).

Around a token request's three statements and its commit, SQLAlchemy's execution context,
the session's bookkeeping and the compiled-cache lookup cost more CPU than SQLite's work
(docs/performance.md, "Token endpoint"). Here the same Core statements (token_queries) are
compiled once per dialect, and run on a pooled DBAPI connection with SQLAlchemy's own bind
and result conversions (UTCDateTime, JSON, booleans), taken from the compiled statement:
no second implementation of the type handling, the same SQL text SQLAlchemy would send.

`DriverConnection` offers what TokenService asks of a Connection (`execute`, then
`rowcount` or `one_or_none`). A statement that was not prepared raises NotPrepared: the
caller rolls back and leaves the request to the usual path (token_server does).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from typing import Any


class NotPrepared(LookupError):
    """A statement this connection was not given: the usual path must run the request."""


class Prepared:
    """One Core statement compiled for one dialect, with its conversions."""

    __slots__ = ("sql", "order", "defaults", "binds", "row", "results")

    def __init__(self, statement, dialect, column_keys: Iterable[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup) if compiled.positional else None
        self.binds = dict(compiled._bind_processors)
        # Values the statement carries itself (literals such as true), converted once.
        names = compiled.construct_params(_check=False)  # the bind names the SQL text uses
        literals = {name: bind.effective_value for name, bind in compiled.binds.items()
                    if name in names and not bind.required and bind.effective_value is not None}
        self.defaults = {name: self.binds[name](value) if name in self.binds else value
                         for name, value in literals.items()}
        columns = compiled._result_columns
        self.row = namedtuple("Row", [column[0] for column in columns], rename=True) if columns else None
        self.results = [column[3]._cached_result_processor(dialect, None) for column in columns]

    def parameters(self, params: dict[str, Any]) -> Any:
        binds = self.binds
        values = dict(self.defaults)
        for name, value in params.items():
            processor = binds.get(name)
            # None too, as SQLAlchemy does: a JSON column's None is stored as JSON null.
            values[name] = processor(value) if processor is not None else value
        if self.order is None:
            return values
        return [values[name] for name in self.order]

    def convert(self, raw_row) -> Any:
        return self.row(*[value if processor is None or value is None else processor(value)
                          for processor, value in zip(self.results, raw_row, strict=True)])


def prepare(dialect, statements: dict[Any, Iterable[str] | None]) -> dict[Any, Prepared]:
    """statement -> Prepared, for {statement: the column keys of an INSERT, or None}."""
    return {statement: Prepared(statement, dialect, keys) for statement, keys in statements.items()}


class DriverResult:
    __slots__ = ("rowcount", "_rows", "_prepared")

    def __init__(self, cursor, prepared: Prepared):
        self.rowcount = cursor.rowcount
        self._prepared = prepared
        self._rows = cursor.fetchall() if cursor.description is not None else []

    def one_or_none(self):
        if not self._rows:
            return None
        if len(self._rows) > 1:
            raise LookupError("more than one row")
        return self._prepared.convert(self._rows[0])


class DriverConnection:
    """TokenService's connection: the prepared statements on a DBAPI connection."""

    __slots__ = ("dbapi_connection", "prepared")

    def __init__(self, dbapi_connection, prepared: dict[Any, Prepared]):
        self.dbapi_connection = dbapi_connection
        self.prepared = prepared

    def execute(self, statement, params: dict[str, Any]) -> DriverResult:
        prepared = self.prepared.get(statement)
        if prepared is None:
            raise NotPrepared(statement)
        cursor = self.dbapi_connection.cursor()
        try:
            cursor.execute(prepared.sql, prepared.parameters(params))
            return DriverResult(cursor, prepared)
        finally:
            cursor.close()
