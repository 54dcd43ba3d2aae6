"""Commands for what surrounds the applications: organisations, regions, environment variables, domains
and backup schedules."""

from typing import Annotated

import typer

from .common import AppOption, EnvOption, YesOption, command_group, delete_after_confirming, environment_of, state
from .output import emit, stderr

orgs_app = command_group("Organisations your token can see.")
regions_app = command_group("Regions applications run in.")
variables_app = command_group("Environment variables (service credentials) of an environment.")
domains_app = command_group("Domains of an environment.")
schedules_app = command_group("Daily backup schedules and their retention.")

HIDDEN = "(hidden)"
SCHEDULE_COLUMNS = [
    "environment", "enabled", "hour", "keep_daily", "keep_weekly", "keep_monthly", "last_run_at", "next_run_at",
]  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(regions_app, name="regions")
    app.add_typer(variables_app, name="env-vars")
    app.add_typer(domains_app, name="domains")
    app.add_typer(schedules_app, name="schedules")


@orgs_app.command("list")
def orgs_list():
    """List the organisations you belong to, with your role in each."""
    emit(state().client().organisations.list(), ["uuid", "slug", "name", "role"], state().fmt)


@regions_app.command("list")
def regions_list():
    """List the regions."""
    emit(state().client().regions.list(), ["uuid", "name"], state().fmt)


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
    app, slugs = _application_environments(application)
    scope = {"environment": _environment_id(slugs, environment)} if environment else {"application": app.uuid}
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


@domains_app.command("list")
def domains_list(application: AppOption, environment: EnvOption):
    """List an environment's domains."""
    env = environment_of(application, environment)
    emit(state().client().domains.list(environment=env.uuid), ["uuid", "domain", "is_primary"], state().fmt)


@domains_app.command("add")
def domains_add(
    domain: str,
    application: AppOption,
    environment: EnvOption,
    primary: Annotated[
        bool, typer.Option("--primary", help="Make it the primary domain (replaces the old one).")
    ] = False,
):
    """Add a domain to an environment."""
    env = environment_of(application, environment)
    created = state().client().domains.create(environment=env.uuid, domain=domain, is_primary=primary)
    emit(created, ["uuid", "domain", "is_primary"], state().fmt, single=True)


@domains_app.command("delete")
def domains_delete(domain: Annotated[str, typer.Argument(help="Domain id.")], yes: YesOption = False):
    """Remove a domain from its environment."""
    domains = state().client().domains
    target = domains.get(domain)
    delete_after_confirming(
        domains, target.uuid, question=f"Remove {target.domain}?", done=f"Removed {target.domain}.", yes=yes
    )


def _application_environments(application: str):
    """The application and its environments as {id: slug}, in two requests."""
    client = state().client()
    app = client.applications.resolve(application)
    return app, {env.uuid: env.slug for env in app.bind(client).environments()}


def _environment_id(slugs: dict[str, str], environment: str) -> str:
    found = next((env_id for env_id, slug in slugs.items() if slug == environment), None)
    if found is None:
        stderr.print(f"[red]No environment {environment!r}; there are: {', '.join(slugs.values())}.[/]")
        raise typer.Exit(1)
    return found


def _schedule_rows(application: str, environment: str | None) -> list[dict]:
    client = state().client()
    _, slugs = _application_environments(application)
    rows = []
    for env_id, slug in slugs.items():
        if environment not in (None, slug):
            continue
        for schedule in client.backup_schedules.list(environment=env_id):
            rows.append({**schedule.model_dump(mode="json", by_alias=True), "environment": slug})
    return rows


@schedules_app.command("list")
def schedules_list(application: AppOption):
    """List the backup schedules of an application's environments."""
    emit(_schedule_rows(application, None), SCHEDULE_COLUMNS, state().fmt)


@schedules_app.command("show")
def schedules_show(application: AppOption, environment: EnvOption):
    """Show an environment's backup schedule."""
    rows = _schedule_rows(application, environment)
    if not rows:
        stderr.print(f"{application}/{environment} has no backup schedule (`appctl schedules set` creates one).")
        raise typer.Exit(1)
    emit(rows[0], SCHEDULE_COLUMNS, state().fmt, single=True)


@schedules_app.command("set")
def schedules_set(
    application: AppOption,
    environment: EnvOption,
    hour: Annotated[int | None, typer.Option(min=0, max=23, help="Hour of the day (UTC) to back up.")] = None,
    keep_daily: Annotated[int | None, typer.Option(min=0, help="Keep the newest backup of each of N days.")] = None,
    keep_weekly: Annotated[int | None, typer.Option(min=0, help="… and of each of N ISO weeks.")] = None,
    keep_monthly: Annotated[int | None, typer.Option(min=0, help="… and of each of N months.")] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Switch scheduled backups on or off.")
    ] = None,
):
    """Change an environment's backup schedule (created if it has none); only the options given change."""
    changes = {
        key: value
        for key, value in {
            "hour": hour, "keep_daily": keep_daily, "keep_weekly": keep_weekly, "keep_monthly": keep_monthly,
            "enabled": enabled,
        }.items()
        if value is not None
    }  # fmt: skip
    if not changes:
        raise typer.BadParameter("give at least one of --hour, --keep-daily, --keep-weekly, --keep-monthly, --enable.")
    client = state().client()
    env = environment_of(application, environment)
    current = next(client.backup_schedules.list(environment=env.uuid), None)
    if current is None:
        schedule = client.backup_schedules.create(environment=env.uuid, **changes)
    else:
        schedule = client.backup_schedules.update(current.uuid, **changes)
    emit({**schedule.model_dump(mode="json", by_alias=True), "environment": environment}, [], state().fmt, single=True)
