"""`appctl env-vars …`: the variables an environment's application receives."""

from typing import Annotated

import typer

from .common import AppOption, application_environments, command_group, environment_id, state
from .output import emit, stderr

variables_app = command_group("Environment variables (service credentials) of an environment.")

HIDDEN = "(hidden)"


@variables_app.command("list")
def variables_list(
    application: AppOption,
    environment: Annotated[str | None, typer.Option("--env", "-e", help="Environment slug (default: all).")] = None,
    name: Annotated[str | None, typer.Option(help="Only the variable with this name.")] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Print sensitive values (the server shows them to owners and admins).")
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
        stderr.print("The server shows sensitive values to owners and admins only.")
