"""Environment variables users set: a change applies at the environment's next deployment.

A service instance's credentials are the instance's own (read-only here: they follow the instance); `PORT`
and the names credentials take are the platform's. Every write marks the environment's variables as changed,
so the API can say that a deployment is needed.
"""

from django.db import transaction
from django.utils import timezone

from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError

from .models import RESERVED_VARIABLE_NAMES, Environment, EnvironmentVariable


class VariableError(ActionError):
    pass


def reserved_name_problem(name: str) -> str | None:
    if RESERVED_VARIABLE_NAMES.match(name):
        return (
            f"{name} is the platform's: PORT is set for each release, and *DATABASE_URL and *_STORAGE_DSN "
            "are service instances' credentials. Choose another name."
        )
    return None


def _refuse_service_credential(variable: EnvironmentVariable) -> None:
    if variable.service_instance_id is not None:
        raise VariableError(
            f"{variable.name} is a service instance's credential: it follows the instance and cannot be changed "
            "or removed here.",
            status=409,
        )


def _changed(environment_id, variable: EnvironmentVariable, action: str) -> None:
    now = timezone.now()
    Environment.objects.filter(pk=environment_id).update(variables_changed_at=now)
    publish(
        f"environment_variable.{action}",
        variable_id=variable.pk,
        environment_id=environment_id,
        name=variable.name,
    )


@transaction.atomic
def variable_create(*, environment: Environment, name: str, value: str, is_sensitive: bool = False):
    problem = reserved_name_problem(name)
    if problem:
        raise VariableError(problem, field="name")
    if EnvironmentVariable.objects.filter(environment=environment, name=name).exists():
        raise VariableError(
            f"The environment already has {name}: change it with PATCH /apps/v3/environment-variables/<id>/.",
            field="name",
        )
    variable = EnvironmentVariable.objects.create(
        environment=environment, name=name, value=value, is_sensitive=is_sensitive
    )
    _changed(environment.pk, variable, "created")
    return variable


@transaction.atomic
def variable_update(*, variable: EnvironmentVariable, changes: dict) -> EnvironmentVariable:
    """Change the value and/or sensitivity (the name is fixed). A sensitive value is never read back, so it
    becomes plain only together with a new value: making it plain must not reveal the old one."""
    _refuse_service_credential(variable)
    if changes.get("is_sensitive") is False and variable.is_sensitive and "value" not in changes:
        raise VariableError(
            "A sensitive value is write-only: send a new `value` together with `is_sensitive: false`.",
            field="is_sensitive",
        )
    for field in ("value", "is_sensitive"):
        if field in changes:
            setattr(variable, field, changes[field])
    variable.updated_at = timezone.now()
    variable.save(update_fields=["value", "is_sensitive", "updated_at"])
    _changed(variable.environment_id, variable, "updated")
    return variable


@transaction.atomic
def variable_delete(*, variable: EnvironmentVariable) -> None:
    _refuse_service_credential(variable)
    environment_id = variable.environment_id
    _changed(environment_id, variable, "deleted")
    variable.delete()
