"""`appctl envs …`: the environments of an application."""

from typing import Annotated

import typer

from .common import AppOption, EnvOption, command_group, environment_of, state
from .output import emit

envs_app = command_group("Environments of an application.")


ENV_COLUMNS = ["uuid", "slug", "branch", "auto_deploy", "application"]


@envs_app.command("list")
def envs_list(application: AppOption):
    """List an application's environments."""
    client = state().client()
    emit(client.applications.resolve(application).bind(client).environments(), ENV_COLUMNS, state().fmt)


@envs_app.command("show")
def envs_show(application: AppOption, environment: EnvOption):
    """Show one environment."""
    emit(environment_of(application, environment), ENV_COLUMNS, state().fmt, single=True)


@envs_app.command("copy")
def envs_copy(
    new_slug: Annotated[str, typer.Argument(help="The new environment's slug.")],
    application: AppOption,
    environment: EnvOption,
    with_data: Annotated[
        bool, typer.Option("--with-data", help="Fill its service instances from the source's latest backup.")
    ] = False,
):
    """Copy an environment: its branch, variables and service instances (provisioned empty, or with
    --with-data restored from its latest successful backup) in a new environment."""
    client = state().client()
    source = environment_of(application, environment)
    copied = client.environments.copy(source.uuid, new_slug, copy_data=with_data)
    emit(copied, ENV_COLUMNS, state().fmt, single=True)


@envs_app.command("update")
def envs_update(
    application: AppOption,
    environment: EnvOption,
    branch: Annotated[str | None, typer.Option(help="The git branch the environment deploys.")] = None,
    auto_deploy: Annotated[
        bool | None,
        typer.Option(
            "--auto-deploy/--no-auto-deploy",
            help="Deploy when a push to the application's git_url changes the environment's branch.",
        ),
    ] = None,
):
    """Change an environment's branch or auto_deploy."""
    changes: dict[str, object] = {}
    if branch is not None:
        changes["branch"] = branch
    if auto_deploy is not None:
        changes["auto_deploy"] = auto_deploy
    if not changes:
        raise typer.BadParameter("Give --branch, --auto-deploy or --no-auto-deploy.")
    client = state().client()
    target = environment_of(application, environment)
    emit(client.environments.update(target.uuid, **changes), ENV_COLUMNS, state().fmt, single=True)
