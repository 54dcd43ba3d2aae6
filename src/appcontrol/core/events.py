"""Domain events: a service function says what happened; other parts of the product react to it.

Publishing is how a lower layer lets higher ones act without importing them (services do not know that
backups keep a schedule per environment; the audit log records every one of them).
Subscribers register in their app's `ready()`; an event is dispatched once the transaction that published
it commits, so no subscriber acts on something that was rolled back; it runs on behalf of whoever
published it (core.actor). A failing subscriber is logged and
does not keep the others from running.

Events (and their keyword arguments):
- `application.created` / `.updated` (application_id, organisation_id; `.updated` also fields)
- `application.deleted` (application_id, organisation_id, slug)
- `environment.created` (environment_id, application_id)
- `environment.updated` (environment_id, application_id, fields)
- `environment.copied` (environment_id, application_id, source_id)
- `environment.deleted` (environment_id, application_id)
- `domain.created` / `.deleted` (domain_id, environment_id, domain)
- `environment_variable.created` / `.updated` / `.deleted` (variable_id, environment_id, name)
- `service_instance.created` / `.deleted` (instance_id, environment_id)
- `service_instance.provisioned` (instance_id, environment_id, success)
- `backup.created` (backup_id, environment_id, trigger)
- `backup.completed` (backup_id, success)
- `backup.deleted` (backup_id, environment_id)
- `backup_download.created` (download_id, backup_id)
- `restore.created` (restore_id, backup_id)
- `restore.completed` (restore_id, success)
- `backup_schedule.saved` (schedule_id, environment_id)
- `repository.created` (repository_id, organisation_id)
- `deployment.created` (deployment_id, environment_id, build_mode, rollback)
- `deployment.finished` (deployment_id, environment_id, success)
- `token.first_used` (token_id, user_id)
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

from .actor import Actor, acting, current_actor

logger = logging.getLogger(__name__)

EVENTS = {
    "application.created", "application.updated", "application.deleted",
    "environment.created", "environment.updated", "environment.copied", "environment.deleted",
    "domain.created", "domain.deleted",
    "environment_variable.created", "environment_variable.updated", "environment_variable.deleted",
    "service_instance.created", "service_instance.provisioned", "service_instance.deleted",
    "backup.created", "backup.completed", "backup.deleted", "backup_download.created",
    "restore.created", "restore.completed", "backup_schedule.saved",
    "repository.created", "deployment.created", "deployment.finished",
    "token.first_used",
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
    actor = current_actor()  # who caused it, whenever the commit comes
    transaction.on_commit(lambda: _dispatch(event, payload, actor))


def _dispatch(event: str, payload: dict, actor: Actor | None) -> None:
    with acting(*((actor.user, actor.token) if actor is not None else (None, None))):
        for handler in list(_subscribers[event]):
            try:
                handler(**payload)
            except Exception:  # noqa: BLE001 - one subscriber's failure must not silence the others
                logger.exception("Subscriber %s of %s failed", getattr(handler, "__qualname__", handler), event)
