"""Domain events become activities: where it happened (organisation, application), who did it, what it was.

The payloads carry ids (core/events.py); the recorder finds the application and organisation they belong to,
and the caller from core.actor (nobody outside a request: the product itself, e.g. a scheduled backup).
"""

import logging
import uuid
from dataclasses import dataclass, field

from appcontrol.accounts.models import AccessToken, Membership
from appcontrol.applications.models import Application, Environment
from appcontrol.backups.models import Backup, BackupRestore
from appcontrol.core.actor import current_actor
from appcontrol.core.ids import encode_id

from .models import ApplicationActivity

logger = logging.getLogger(__name__)

DESCRIPTIONS = {
    "application.created": "Created the application {application}",
    "application.updated": "Changed the application {application}: {fields}",
    "application.deleted": "Deleted the application {slug}",
    "environment.created": "Created the environment {environment} of {application}",
    "environment.updated": "Changed the environment {environment} of {application}: {fields}",
    "environment.copied": "Copied an environment of {application} into {environment}",
    "environment.deleted": "Deleted an environment of {application}",
    "domain.created": "Added the domain {domain} to {environment}",
    "domain.deleted": "Removed the domain {domain} from {environment}",
    "environment_variable.created": "Set the variable {name} in {environment}",
    "environment_variable.updated": "Changed the variable {name} in {environment}",
    "environment_variable.deleted": "Removed the variable {name} from {environment}",
    "service_instance.created": "Added a service instance to {environment}",
    "service_instance.provisioned": "A service instance of {environment} was provisioned: {outcome}",
    "service_instance.deleted": "Deleted a service instance of {environment}",
    "backup.created": "Started a backup of {environment} ({trigger})",
    "backup.completed": "A backup of {environment} ended: {success}",
    "backup.deleted": "Deleted a backup of {environment}",
    "backup_download.created": "Prepared a download of a backup of {environment}",
    "restore.created": "Started a restore into {environment}",
    "restore.completed": "A restore into {environment} ended: {success}",
    "backup_schedule.saved": "Changed the backup schedule of {environment}",
    "repository.created": "Added a repository",
    "deployment.created": "Started a deployment of {environment}",
    "deployment.finished": "A deployment of {environment} ended: {outcome}",
    "token.first_used": "A new access token was used for the first time",
}


@dataclass
class Target:
    organisation_id: uuid.UUID
    application_id: uuid.UUID | None = None
    names: dict = field(default_factory=dict)


def recorder_for(event: str):
    def record(**payload) -> None:
        for target in targets(event, payload):
            ApplicationActivity.objects.create(
                organisation_id=target.organisation_id,
                application_id=target.application_id,
                type=event,
                description=describe(event, payload, target),
                context=context_of(payload, target),
                **actor_fields(event, payload),
            )

    record.__qualname__ = f"record[{event}]"
    return record


def targets(event: str, payload: dict) -> list[Target]:
    """Where the event happened; none when its objects are gone (an environment deleted with its
    application is told by the application's own activity)."""
    if event == "token.first_used":
        return _token_targets(payload["token_id"])
    if event == "repository.created":
        return [Target(payload["organisation_id"])]
    if event.startswith("application."):
        if event == "application.deleted":
            return [Target(payload["organisation_id"], payload["application_id"])]
        return _application_targets(payload["application_id"])
    environment_id = payload.get("environment_id") or _environment_of(event, payload)
    if environment_id is None:
        return []
    if event == "environment.deleted":
        return _application_targets(payload["application_id"])
    environment = Environment.objects.filter(pk=environment_id).select_related("application").first()
    if environment is None:
        return []
    application = environment.application
    names = {"environment": environment.slug, "application": application.slug}
    return [Target(application.organisation_id, application.pk, names)]


def _environment_of(event: str, payload: dict):
    if "backup_id" in payload and not event.startswith("restore."):
        return Backup.objects.filter(pk=payload["backup_id"]).values_list("environment_id", flat=True).first()
    if "restore_id" in payload:
        # Where the data went: the environment of the instances restored into (maybe not the backup's).
        restore = BackupRestore.objects.filter(pk=payload["restore_id"]).first()
        target = restore and restore.service_instance_restores.select_related("service_instance").first()
        return target.service_instance.environment_id if target else None
    return None


def _application_targets(application_id) -> list[Target]:
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        return []
    return [Target(application.organisation_id, application.pk, {"application": application.slug})]


def _token_targets(token_id) -> list[Target]:
    """A token restricted to an organisation is news there; another, in each organisation of its account."""
    token = AccessToken.objects.filter(pk=token_id).first()
    if token is None:
        return []
    if token.organisation_id is not None:
        return [Target(token.organisation_id)]
    organisations = Membership.objects.filter(user_id=token.user_id).values_list("organisation_id", flat=True)
    return [Target(organisation_id) for organisation_id in organisations]


def describe(event: str, payload: dict, target: Target) -> str:
    values = {**payload, **target.names}
    values["fields"] = ", ".join(payload.get("fields", []))
    values["success"] = payload.get("success") or "no outcome"
    values["outcome"] = "success" if payload.get("success") else "failed"
    try:
        return DESCRIPTIONS[event].format(**values)
    except (KeyError, IndexError):
        logger.warning("No description for %s with %s", event, sorted(values))
        return event


def context_of(payload: dict, target: Target) -> dict:
    """The payload's ids in the API's form, and the names they had: nothing else (never a value)."""
    context = {key: _plain(value) for key, value in payload.items()}
    context.update(target.names)
    return context


def _plain(value):
    if isinstance(value, uuid.UUID):
        return encode_id(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def actor_fields(event: str, payload: dict) -> dict:
    actor = current_actor()
    user, token = (actor.user, actor.token) if actor is not None else (None, None)
    if event == "token.first_used" and user is None:
        # Recorded while the request is being authenticated, before it acts as anyone.
        token = AccessToken.objects.select_related("user").filter(pk=payload["token_id"]).first()
        user = token.user if token is not None else None
    if user is None:
        return {"user_name": "appcontrol", "user_email": ""}
    full_name = f"{user.first_name} {user.last_name}".strip()
    return {
        "user": user,
        "user_name": full_name or user.email,
        "user_email": user.email,
        "token_prefix": getattr(token, "prefix", "") or "",
    }
