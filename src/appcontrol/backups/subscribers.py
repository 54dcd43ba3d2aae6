"""What backups do when other parts of the product say something happened (see core/events.py)."""

from appcontrol.applications.models import Environment
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import enqueue
from appcontrol.core.storage import artifact_store
from appcontrol.services.models import ServiceStatus

from .models import BackupRestore
from .schedules import schedule_ensure
from .services import backup_restore_fail


def schedule_for_new_instance(*, instance_id, environment_id) -> None:
    """Every environment with a service instance is backed up daily unless its schedule is disabled."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        schedule_ensure(environment=environment)


def artifacts_of_deleted_environment(*, environment_id, application_id) -> None:
    """The environment's backup rows went with it; its artifacts (all named `<environment id>/…`) go now."""
    artifact_store().delete_folder(encode_id(environment_id))


def restores_waiting_for(*, instance_id, environment_id, success) -> None:
    """A restore into instances being provisioned starts when the last of them is ready, and fails when one
    of them cannot be provisioned."""
    waiting = BackupRestore.objects.filter(
        waits_for_provisioning=True, service_instance_restores__service_instance_id=instance_id
    ).distinct()
    for restore in waiting:
        statuses = set(restore.service_instance_restores.values_list("service_instance__service_status", flat=True))
        if success and statuses != {ServiceStatus.ATTACHED}:
            continue  # another target is still being provisioned
        # One subscriber call takes the restore: the flag is cleared once.
        if not BackupRestore.objects.filter(pk=restore.pk, waits_for_provisioning=True).update(
            waits_for_provisioning=False
        ):
            continue
        if success:
            enqueue("backup-restore", restore.pk)
        else:
            message = f"The service instance {encode_id(instance_id)} could not be provisioned; nothing was restored."
            backup_restore_fail(restore=restore, message=message)
