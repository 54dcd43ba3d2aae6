"""What backups do when other parts of the product say something happened (see core/events.py)."""

from appcontrol.applications.models import Environment

from .schedules import schedule_ensure


def schedule_for_new_instance(*, instance_id, environment_id) -> None:
    """Every environment with a service instance is backed up daily unless its schedule is disabled."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        schedule_ensure(environment=environment)
