"""Who is acting: the caller of the API request being served, for whoever records what happened (the audit
log subscribes to domain events, which carry no caller). Outside a request — a job, a command, the
scheduler — nobody is acting and the product itself is the actor."""

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user: object  # the account (accounts.User); this layer knows no models above it
    token: object | None  # the access token used, if any (its `prefix` names it)


_acting: ContextVar[Actor | None] = ContextVar("appcontrol_actor", default=None)


@contextlib.contextmanager
def acting(user, token):
    """Everything inside happens on behalf of `user` (through `token`)."""
    reset = _acting.set(Actor(user, token) if user is not None else None)
    try:
        yield
    finally:
        _acting.reset(reset)


def current_actor() -> Actor | None:
    return _acting.get()
