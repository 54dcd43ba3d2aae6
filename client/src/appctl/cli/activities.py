"""`appctl activities` and `appctl templates`: what happened in your applications, and what new ones can
start from."""

from typing import Annotated

import typer

from .common import LimitOption, command_group, state
from .output import emit

activities_app = command_group("What happened in your applications (the audit log), newest first.")
templates_app = command_group("Templates new applications can start from (`apps create --template`).")


@activities_app.command("list")
def activities_list(
    application: Annotated[str | None, typer.Option("--app", "-a", help="Only this application (slug or id).")] = None,
    event: Annotated[str | None, typer.Option("--type", help="Only this event, e.g. deployment.created.")] = None,
    limit: LimitOption = 50,
):
    """List activities: who did what, when, and with which token."""
    client = state().client()
    filters = {"type": event} if event else {}
    if application:
        filters["application"] = client.applications.resolve(application).uuid
    rows = client.activities.list(limit=limit, **filters)
    emit(rows, ["created_at", "type", "description", "user_name", "token"], state().fmt)


@templates_app.command("list")
def templates_list():
    """List the server's templates."""
    emit(state().client().app_templates.list(), ["identifier", "name", "url", "is_default"], state().fmt)
