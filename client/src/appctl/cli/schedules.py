"""`appctl schedules …`: daily backups and their retention."""

from typing import Annotated

import typer

from .common import AppOption, EnvOption, application_environments, command_group, environment_of, state
from .output import emit, stderr

schedules_app = command_group("Daily backup schedules and their retention.")
SCHEDULE_COLUMNS = [
    "environment", "enabled", "hour", "keep_daily", "keep_weekly", "keep_monthly", "last_run_at", "next_run_at",
]  # fmt: skip


def _schedule_rows(application: str, environment: str | None) -> list[dict]:
    client = state().client()
    _, slugs = application_environments(application)
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
