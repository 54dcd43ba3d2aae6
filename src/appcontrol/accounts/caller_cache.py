"""Callers of read-only requests remembered between requests, and checked against the database in the
statement that reads the request's page.

Looking up a token is a statement of its own on every request: a round trip, the database's work, and,
under load, a wait for the interpreter's lock when the answer comes back. A GET or HEAD request whose token
this process looked up before takes its caller (token, account, organisations) from memory instead, and is
*verified* before anything it does can matter:

- a list's page statement reads, along with its rows, the token's fingerprint as it is now (`token_lookup`):
  the rows and the rights they were chosen by are read in one snapshot;
- any other statement first verifies on its own (one query, as the lookup was);
- a response is not sent before its caller is verified (then one query).

A fingerprint that differs from the remembered one (a token revoked, deleted or changed, an account
deactivated, a membership added, removed or changed, an organisation's rate limit changed) forgets the caller
and the request is answered anew after a fresh lookup. So revoking a token takes effect at once, whichever
process or host revoked it, by whatever means. PostgreSQL only: on SQLite the lookup runs in the process.

A caller is remembered until its token's use is due to be written down again (a minute after the last,
APPCONTROL_TOKEN_LAST_USED_RESOLUTION_SECONDS): that request looks the token up, writes, and the next one
remembers it anew. The counter of a rate limit kept in the database is written only once the caller is
verified; one kept in Redis may count a request for a caller then found stale.
"""

import threading

from django.conf import settings

from appcontrol.core.verification import Verification

from .token_lookup import LookedUp, caller_fingerprint_sql

MAX_CALLERS = 4096  # per process; a caller is a few hundred bytes


class _Remembered:
    def __init__(self):
        self._callers: dict[str, LookedUp] = {}
        self._lock = threading.Lock()

    def recall(self, prefix: str) -> LookedUp | None:
        return self._callers.get(prefix)

    def remember(self, prefix: str, found: LookedUp) -> None:
        with self._lock:
            while len(self._callers) >= MAX_CALLERS:  # oldest first: dicts keep insertion order
                del self._callers[next(iter(self._callers))]
            self._callers[prefix] = found

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._callers.pop(prefix, None)


remembered = _Remembered()


def applies(request) -> bool:
    """Whether this request may take a remembered caller: a read (nothing it does before it is verified can
    change anything), on a database that can verify it along."""
    return (
        request.method in ("GET", "HEAD")
        and settings.APPCONTROL_REMEMBER_CALLERS
        and caller_fingerprint_sql() is not None  # PostgreSQL's
    )


def verification(prefix: str, found: LookedUp) -> Verification:
    """What a request taking this remembered caller owes."""
    return Verification(prefix, found.fingerprint, caller_fingerprint_sql(), remembered.forget)
