"""The check a request owes when its caller was taken from memory (`accounts.caller_cache`): the caller is
compared with what the database holds now before anything the request does can matter.

Installed as the connection's execute wrapper for the request: a statement that does not carry the check
itself (a list's page statement reads the caller's fingerprint along, `sql_compiler.verified_along`) runs
only after the caller is verified by a query of its own; a caller found stale raises StaleCaller, and the
request is answered anew.
"""

from enum import Enum

from django.db import connection

CALLER_FINGERPRINT = "caller_fingerprint"  # the column of a page statement that carries it


class StaleCaller(Exception):  # noqa: N818 - a signal to answer anew, not an error anyone sees
    """A remembered caller is not what the database holds now: the request must be answered anew."""


class State(Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    STALE = "stale"


class Verification:
    """The check a request with a remembered caller owes (the connection's execute wrapper meanwhile)."""

    def __init__(self, prefix: str, fingerprint: str, fingerprint_sql: str, forget):
        # `fingerprint_sql`: SELECT the fingerprint of the token whose prefix is its one parameter; `forget`:
        # called with the prefix when the remembered caller turns out stale.
        self.prefix, self.fingerprint, self.sql, self.forget = prefix, fingerprint, fingerprint_sql, forget
        self.state = State.PENDING
        self._checking = False

    def __call__(self, execute, sql, params, many, context):
        if self.state is State.PENDING and not self._checking and not self.carried_by(sql):
            self.verify()
        if self.state is State.STALE:
            raise StaleCaller()
        return execute(sql, params, many, context)

    def carried_by(self, sql: str) -> bool:
        return self.sql in sql

    def verify(self) -> None:
        """Check the caller with a query of its own, if it is still owed."""
        if self.state is not State.PENDING:
            return
        self._checking = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.sql, [self.prefix])
                row = cursor.fetchone()
        finally:
            self._checking = False
        self.settle(row[0] if row else None)

    def settle(self, fingerprint: str | None) -> None:
        """Compare the fingerprint the database gave with the remembered one; StaleCaller if they differ."""
        if self.state is not State.PENDING:
            return  # settled already by the request's first statement: later ones are answered as usual
        if fingerprint is not None and fingerprint == self.fingerprint:
            self.state = State.VERIFIED
            return
        self.state = State.STALE
        self.forget(self.prefix)
        raise StaleCaller()


def verification_of(request) -> Verification | None:
    """The verification a request (Django's or DRF's) still owes, if its caller was remembered."""
    verification = getattr(getattr(request, "_request", request), "caller_verification", None)
    return verification if verification is not None and verification.state is State.PENDING else None
