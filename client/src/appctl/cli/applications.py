"""`appctl apps …`: applications."""

from typing import Annotated

import typer

from .common import LimitOption, YesOption, command_group, delete_after_confirming, state
from .output import emit, stderr

apps_app = command_group("Applications.")


APP_COLUMNS = ["uuid", "slug", "name", "organisation"]
# One application: also where its code comes from (an external repository, or its own `git_url` to push to).
APP_SHOW_COLUMNS = [*APP_COLUMNS, "repository", "git_url"]


@apps_app.command("list")
def apps_list(limit: LimitOption = None, organisation: Annotated[str | None, typer.Option()] = None):
    """List applications (every page)."""
    emit(state().client().applications.list(limit=limit, organisation=organisation), APP_COLUMNS, state().fmt)


@apps_app.command("show")
def apps_show(application: Annotated[str, typer.Argument(help="Slug or id.")]):
    """Show one application."""
    emit(state().client().applications.resolve(application), APP_SHOW_COLUMNS, state().fmt, single=True)


@apps_app.command("create")
def apps_create(
    slug: str,
    organisation: Annotated[str, typer.Option(help="Organisation id.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
    template: Annotated[
        str | None,
        typer.Option(help="Start from a template: its identifier or url (see `appctl templates list`)."),
    ] = None,
    plan_group: Annotated[str | None, typer.Option(help="Plan group id (default: the server's first).")] = None,
    region: Annotated[str | None, typer.Option(help="Region id (default: the plan group's first).")] = None,
):
    """Create an application (with its test and live environments); from a template, its hosted git
    repository starts with the template's files."""
    client = state().client()
    fields: dict[str, object] = {"slug": slug, "name": name or slug, "organisation": organisation}
    if template:
        found = [t for t in client.app_templates.list() if template in (t.identifier, t.url)]
        if not found:
            stderr.print(f"[red]No template {template!r}: see `appctl templates list`.[/]")
            raise typer.Exit(1)
        fields["app_template"] = found[0].url
    if plan_group:
        fields["plan_group"] = plan_group
    if region:
        fields["region"] = region
    emit(client.applications.create(**fields), APP_COLUMNS, state().fmt, single=True)


@apps_app.command("delete")
def apps_delete(
    application: Annotated[str, typer.Argument(help="Slug or id.")],
    yes: YesOption = False,
):
    """Delete an application and its environments (owner or admin)."""
    applications = state().client().applications
    target = applications.resolve(application)
    question = f"Delete {target.slug} and everything in it?"
    delete_after_confirming(applications, target.uuid, question=question, done=f"Deleted {target.slug}.", yes=yes)
