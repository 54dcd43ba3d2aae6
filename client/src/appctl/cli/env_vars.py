"""`appctl env-vars …`: the variables an environment's application receives."""

from pathlib import Path
from typing import Annotated

import typer

from ..dotenv import DotenvError, parse, parse_assignment
from .common import AppOption, EnvOption, application_environments, command_group, environment_id, environment_of, state
from .output import emit, stderr

variables_app = command_group(
    "Environment variables of an environment: yours, and its service instances' credentials. A change applies "
    "at the environment's next deployment."
)

HIDDEN = "(hidden)"


@variables_app.command("list")
def variables_list(
    application: AppOption,
    environment: Annotated[str | None, typer.Option("--env", "-e", help="Environment slug (default: all).")] = None,
    name: Annotated[str | None, typer.Option(help="Only the variable with this name.")] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Print sensitive values the server returns: service credentials, to owners and admins. "
            "Sensitive values you set are write-only and never come back.",
        ),
    ] = False,
):
    """List environment variables; sensitive values are printed as (hidden) unless --reveal."""
    client = state().client()
    app, slugs = application_environments(application)
    scope = {"environment": environment_id(slugs, environment)} if environment else {"application": app.uuid}
    rows = []
    for variable in client.environment_variables.list(name=name, **scope):
        row = variable.model_dump(mode="json", by_alias=True)
        row["environment"] = slugs.get(row["environment"], row["environment"])
        if row.get("is_sensitive") and not reveal:
            row["value"] = HIDDEN
        rows.append(row)
    emit(rows, ["environment", "name", "value", "is_sensitive"], state().fmt)
    if reveal and any(row.get("is_sensitive") and row.get("value") is None for row in rows):
        stderr.print(
            "Sensitive values you set are write-only; service credentials are shown to owners and admins only."
        )


@variables_app.command("set")
def variables_set(
    application: AppOption,
    environment: EnvOption,
    assignments: Annotated[list[str] | None, typer.Argument(help="NAME=VALUE pairs.", show_default=False)] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="Also set every NAME=VALUE of this .env file (quotes, export, comments)."),
    ] = None,
    sensitive: Annotated[
        bool, typer.Option("--sensitive", help="Make the values write-only: nobody can read them back.")
    ] = False,
):
    """Set variables (create or change). They reach the application at its next deployment."""
    try:
        values = parse(from_file.read_text(), str(from_file)) if from_file else {}
        for number, text in enumerate(assignments or [], start=1):
            name, value = parse_assignment(text, f"argument {number}")
            values[name] = value
    except (DotenvError, OSError, UnicodeDecodeError) as error:
        stderr.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    if not values:
        stderr.print("[red]Nothing to set: give NAME=VALUE arguments or --from-file.[/]")
        raise typer.Exit(2)
    client = state().client()
    env = environment_of(application, environment)
    existing = {variable.name: variable.uuid for variable in client.environment_variables.list(environment=env.uuid)}
    written = []
    for name, value in values.items():
        if name in existing:
            written.append(client.environment_variables.update(existing[name], value=value, is_sensitive=sensitive))
        else:
            written.append(
                client.environment_variables.create(
                    environment=env.uuid, name=name, value=value, is_sensitive=sensitive
                )
            )
    emit(written, ["name", "is_sensitive", "pending_deployment"], state().fmt)
    stderr.print(f"Deploy to apply: appctl deploy --app {application} --env {environment}")


@variables_app.command("unset")
def variables_unset(
    names: Annotated[list[str], typer.Argument(help="Names of the variables to remove.")],
    application: AppOption,
    environment: EnvOption,
):
    """Remove variables. The application keeps them until its next deployment."""
    client = state().client()
    env = environment_of(application, environment)
    existing = {variable.name: variable.uuid for variable in client.environment_variables.list(environment=env.uuid)}
    missing = [name for name in names if name not in existing]
    for name in names:
        if name in existing:
            client.environment_variables.delete(existing[name])
            stderr.print(f"Removed {name}.")
    if missing:
        stderr.print(f"[yellow]Not set in {environment}: {', '.join(missing)}.[/]")
    stderr.print(f"Deploy to apply: appctl deploy --app {application} --env {environment}")
