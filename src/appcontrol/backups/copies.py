"""Copy an environment: a new one with the source's branch, variables and a service instance for each of
the source's, provisioned empty — or, with its data, filled from the source's latest successful backup."""

from django.db import transaction

from appcontrol.applications.models import Environment, EnvironmentVariable
from appcontrol.applications.services import environment_create
from appcontrol.core.events import publish
from appcontrol.services.services import service_instance_create

from .models import Backup, Outcome
from .services import BackupError, backup_restore_create

# Each environment gets a SECRET_KEY of its own (deployments make it); credentials come with new instances.
NOT_COPIED = {"SECRET_KEY"}


@transaction.atomic
def environment_copy(*, source: Environment, new_slug: str, copy_data: bool = False, user=None) -> Environment:
    backup = _latest_backup(source) if copy_data else None
    environment = environment_create(application=source.application, slug=new_slug, branch=source.branch)
    variables = source.variables.filter(service_instance__isnull=True).exclude(name__in=NOT_COPIED)
    EnvironmentVariable.objects.bulk_create(
        EnvironmentVariable(environment=environment, name=row.name, value=row.value, is_sensitive=row.is_sensitive)
        for row in variables
    )
    copies = {
        instance.pk: service_instance_create(environment=environment, service=instance.service, prefix=instance.prefix)
        for instance in source.service_instances.select_related("service")
    }
    if backup is not None:
        items = [
            (part, copies[part.service_instance_id])
            for part in backup.service_instance_backups.all()
            if part.service_instance_id in copies and part.succeeded
        ]
        if items:
            notes = f"Data of {source.slug}, copied into {new_slug}"
            backup_restore_create(backup=backup, items=items, notes=notes, user=user, after_provisioning=True)
    publish(
        "environment.copied", environment_id=environment.pk, application_id=source.application_id, source_id=source.pk
    )
    return environment


def _latest_backup(source: Environment) -> Backup:
    backup = (
        Backup.objects.filter(environment=source, success=Outcome.SUCCESS)
        .order_by("-created_at", "-uuid")
        .prefetch_related("service_instance_backups")
        .first()
    )
    if backup is None:
        raise BackupError(
            f"The environment {source.slug} has no successful backup to copy its data from: take one first "
            "(POST /apps/v3/backups/), or copy without copy_data.",
            "copy_data",
        )
    return backup
