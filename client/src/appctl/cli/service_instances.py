"""`appctl service-instances …`: databases and storage of an environment."""

from typing import Annotated

import typer

from .common import (
    AppOption,
    EnvOption,
    TimeoutOption,
    WaitOption,
    YesOption,
    command_group,
    delete_after_confirming,
    environment_of,
    state,
)
from .output import emit, stderr

instances_app = command_group("Service instances (databases, storage) of an environment.")


INSTANCE_COLUMNS = ["uuid", "prefix", "type", "service_status", "service", "errors"]


@instances_app.command("list")
def instances_list(application: AppOption, environment: EnvOption):
    """List an environment's service instances."""
    emit(environment_of(application, environment).service_instances(), INSTANCE_COLUMNS, state().fmt)


@instances_app.command("create")
def instances_create(
    application: AppOption,
    environment: EnvOption,
    service: Annotated[str, typer.Option(help="Service identifier (see `appctl services list`) or id.")],
    prefix: Annotated[str, typer.Option(help="Upper-case prefix of its variables.")] = "DEFAULT",
    wait: WaitOption = True,
    timeout: TimeoutOption = 600,
):
    """Create (provision) a service instance."""
    client = state().client()
    env = environment_of(application, environment)
    service_id = next((s.uuid for s in client.services.list() if service in (s.identifier, s.uuid)), service)
    instance = client.service_instances.create(environment=env.uuid, service=service_id, prefix=prefix)
    if wait:
        with stderr.status("Provisioning…"):
            instance = instance.wait(timeout=timeout, interval=1.0)
        if instance.service_status == "ERROR":
            stderr.print(f"[red]Provisioning failed:[/] {'; '.join(instance.errors)}")
            raise typer.Exit(1)
    emit(instance, INSTANCE_COLUMNS, state().fmt, single=True)


@instances_app.command("show")
def instances_show(instance: Annotated[str, typer.Argument(help="Service-instance id.")]):
    """Show one service instance."""
    emit(state().client().service_instances.get(instance), INSTANCE_COLUMNS, state().fmt, single=True)


@instances_app.command("delete")
def instances_delete(instance: Annotated[str, typer.Argument(help="Service-instance id.")], yes: YesOption = False):
    """Delete a service instance: its database or storage and their data are gone for good (owner or admin)."""
    instances = state().client().service_instances
    target = instances.get(instance)
    delete_after_confirming(
        instances,
        target.uuid,
        question=f"Destroy the {target.type} {target.prefix} ({target.uuid}) and all its data?",
        done=f"Deleted service instance {target.uuid}; its backups stay until they expire or are deleted.",
        yes=yes,
    )
