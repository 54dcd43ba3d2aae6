"""Domain events: a service function says what happened; other parts of the product react to it.

Publishing is how a lower layer lets higher ones act without importing them (services do not know that
backups keep a schedule per environment; webhooks and an audit log will subscribe the same way).
Subscribers register in their app's `ready()`; an event is dispatched once the transaction that published
it commits, so no subscriber acts on something that was rolled back. A failing subscriber is logged and
does not keep the others from running.

Events (and their keyword arguments):
- `service_instance.created` (instance_id, environment_id)
- `service_instance.deleted` (instance_id, environment_id)
- `environment.deleted` (environment_id, application_id)
- `application.deleted` (application_id, organisation_id)
- `backup.completed` (backup_id, success)
- `restore.completed` (restore_id, success)
- `environment_variable.created` / `.updated` / `.deleted` (variable_id, environment_id, name)
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

EVENTS = {
    "service_instance.created", "service_instance.deleted", "environment.deleted", "application.deleted",
    "backup.completed", "restore.completed",
    "environment_variable.created", "environment_variable.updated", "environment_variable.deleted",
}  # fmt: skip
_subscribers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(event: str, handler: Callable) -> None:
    """Call `handler(**payload)` after each commit that published `event`."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}; known: {', '.join(sorted(EVENTS))}.")
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def publish(event: str, **payload) -> None:
    """Announce `event`; subscribers run when the current transaction commits (at once outside one)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    transaction.on_commit(lambda: _dispatch(event, payload))


def _dispatch(event: str, payload: dict) -> None:
    for handler in list(_subscribers[event]):
        try:
            handler(**payload)
        except Exception:  # noqa: BLE001 - one subscriber's failure must not silence the others
            logger.exception("Subscriber %s of %s failed", getattr(handler, "__qualname__", handler), event)
