"""What backups do when other parts of the product say something happened (see core/events.py)."""

from appcontrol.applications.models import Environment
from appcontrol.core.ids import encode_id
from appcontrol.core.storage import artifact_store

from .schedules import schedule_ensure


def schedule_for_new_instance(*, instance_id, environment_id) -> None:
    """Every environment with a service instance is backed up daily unless its schedule is disabled."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        schedule_ensure(environment=environment)


def artifacts_of_deleted_environment(*, environment_id, application_id) -> None:
    """The environment's backup rows went with it; its artifacts (all named `<environment id>/…`) go now."""
    artifact_store().delete_folder(encode_id(environment_id))
