"""`appctl backups …`: take, find, download, restore and upload backups."""

from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    AppOption,
    EnvOption,
    LimitOption,
    TimeoutOption,
    WaitOption,
    YesOption,
    command_group,
    delete_after_confirming,
    environment_of,
    state,
)
from .output import Format, emit, size, stderr, timestamp

backups_app = command_group("Backups: take, find, download, restore, upload.")

BACKUP_COLUMNS = ["uuid", "created_at", "trigger", "state", "success", "notes"]


@backups_app.command("list")
def backups_list(
    application: AppOption, environment: EnvOption, limit: LimitOption = None,
    success: Annotated[str | None, typer.Option(help="SUCCESS, PARTIAL or FAILURE.")] = None,
):  # fmt: skip
    """List an environment's backups, newest first (every page unless --limit)."""
    env = environment_of(application, environment)
    emit(state().client().backups.list(environment=env.uuid, success=success, limit=limit), BACKUP_COLUMNS, state().fmt)


PART_FIELDS = ["uuid", "service_type", "service_instance", "taken_at", "size", "sha256", "errors"]


def _describe(backup) -> dict:
    parts = []
    for part in backup.service_instance_backups():
        fields = part.model_dump(mode="json", by_alias=True)
        parts.append({name: fields.get(name) for name in PART_FIELDS})
    return {**backup.model_dump(mode="json", by_alias=True), "parts": parts}


@backups_app.command("show")
def backups_show(backup: str):
    """Show a backup with its parts (size, sha256, errors)."""
    emit(_describe(state().client().backups.get(backup)), [], state().fmt, single=True)


@backups_app.command("create")
def backups_create(
    application: AppOption, environment: EnvOption, notes: Annotated[str | None, typer.Option()] = None,
    wait: WaitOption = True, timeout: TimeoutOption = 3600,
):  # fmt: skip
    """Back up every service instance of an environment."""
    client = state().client()
    backup = client.backups.create(environment=environment_of(application, environment).uuid, notes=notes)
    if wait:
        with stderr.status(f"Backing up {application}/{environment}…"):
            backup = backup.wait(timeout=timeout)
    emit(_describe(backup) if wait else backup, BACKUP_COLUMNS, state().fmt, single=True)
    if wait and backup.success != "SUCCESS":
        raise typer.Exit(1)


@backups_app.command("latest")
def backups_latest(
    application: AppOption, environment: EnvOption,
    service_type: Annotated[str | None, typer.Option("--type", help="DATABASE or STORAGE.")] = None,
):  # fmt: skip
    """When was the latest successful backup taken, how big is it, and what does it hold?"""
    found = state().client().backups.latest(application=application, environment=environment, service_type=service_type)
    if found is None:
        stderr.print(f"No successful backup of {application}/{environment} yet.")
        raise typer.Exit(1)
    backup, parts = found
    rows = [
        {
            "backup": backup.uuid, "part": part.uuid, "type": part.service_type,
            "service_instance": instance.prefix if instance else part.service_instance_id,
            "taken_at": timestamp(part.taken_at), "size": part.size, "sha256": part.sha256,
        }
        for part, instance in parts
    ]  # fmt: skip
    if state().fmt is Format.TABLE:
        stderr.print(f"Latest successful backup of {application}/{environment}:")
    emit(rows, ["backup", "type", "service_instance", "taken_at", "size", "part"], state().fmt)


@backups_app.command("download")
def backups_download(
    backup: str,
    part: Annotated[str | None, typer.Option(help="Part id (default: the only or the database part).")] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (default: <app>-<env>-<prefix>-<time>.<kind>)."),
    ] = None,
):
    """Download a backup part, resuming an interrupted download, and verify its sha256."""
    client = state().client()
    found = client.backups.get(backup)
    parts = found.service_instance_backups()
    chosen = next((p for p in parts if p.uuid == part), None) if part else _default_part(parts)
    if chosen is None:
        stderr.print("Name the part with --part; this backup has: " + ", ".join(p.uuid for p in parts))
        raise typer.Exit(2)
    item = client.backups.download_link(found.uuid, chosen.uuid)
    target = output or Path(_artifact_name(client, found, chosen, client.backups.artifact_extension(item)))
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=stderr) as bar:
        task = bar.add_task(target.name, total=chosen.size)
        path = client.backups.download_item(
            item, target, on_progress=lambda done, total: bar.update(task, completed=done)
        )
    stderr.print(f"Saved {path} ({size(chosen.size)}, sha256 verified).")


def _artifact_name(client, backup, part, extension: str) -> str:
    """`<app>-<env>-<prefix>-<UTC time>.<kind>`: what the file holds, readable in a directory listing."""
    environment = client.environments.get(backup.environment)
    application = client.applications.get(environment.application)
    instance = client.service_instances.get(part.service_instance_id) if part.service_instance_id else None
    prefix = (instance.prefix if instance else part.service_type).lower()
    moment = (part.taken_at or backup.created_at).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{application.slug}-{environment.slug}-{prefix}-{moment}.{extension}"


def _default_part(parts):
    if len(parts) == 1:
        return parts[0]
    databases = [p for p in parts if p.service_type == "DATABASE"]
    return databases[0] if len(databases) == 1 else None


@backups_app.command("restore")
def backups_restore(
    backup: str,
    into: Annotated[
        str | None, typer.Option("--into-env", help="Restore into this environment of the same app instead.")
    ] = None,
    application: Annotated[
        str | None, typer.Option("--app", "-a", help="Application (needed with --into-env).")
    ] = None,
    wait: WaitOption = True, timeout: TimeoutOption = 3600,
    yes: YesOption = False,
):  # fmt: skip
    """Restore every part of a backup, into its own environment or (with --into-env) another one."""
    client = state().client()
    parts = client.backups.get(backup).service_instance_backups()
    targets = {}
    if into:
        if not application:
            raise typer.BadParameter("--into-env needs --app.")
        instances = list(environment_of(application, into).service_instances())
        source = {p.uuid: client.service_instances.get(p.service_instance_id) for p in parts if p.service_instance_id}
        for part_id, instance in source.items():
            match = next((i for i in instances if i.type == instance.type and i.prefix == instance.prefix), None)
            if match is None:
                stderr.print(f"[red]{into} has no {instance.type} with prefix {instance.prefix}.[/]")
                raise typer.Exit(1)
            targets[part_id] = match.uuid
    if not yes:
        typer.confirm(
            f"Replace the data {'in ' + into if into else 'of the backed-up instances'}?", abort=True, err=True
        )
    restore = client.backups.restore(backup, [p.uuid for p in parts], targets=targets)
    if wait:
        with stderr.status("Restoring…"):
            restore = restore.wait(timeout=timeout)
    emit(restore, ["uuid", "finished", "success"], state().fmt, single=True)
    if wait and restore.success != "SUCCESS":
        raise typer.Exit(1)


@backups_app.command("upload")
def backups_upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    application: AppOption, environment: EnvOption,
    service_type: Annotated[str, typer.Option("--type", help="DATABASE or STORAGE.")] = "DATABASE",
    prefix: Annotated[str, typer.Option(help="Service-instance prefix.")] = "DEFAULT",
    wait: WaitOption = True, timeout: TimeoutOption = 3600,
):  # fmt: skip
    """Upload a dump (PostgreSQL custom or plain SQL, SQLite file, media tar) as a backup; the file is only read."""
    client = state().client()
    env = environment_of(application, environment)
    instance = next((i for i in env.service_instances() if i.type == service_type and i.prefix == prefix), None)
    if instance is None:
        stderr.print(f"[red]{environment} has no {service_type} with prefix {prefix}.[/]")
        raise typer.Exit(1)
    with stderr.status(f"Uploading {file.name}…"):
        backup = client.backups.upload(environment=env.uuid, service_instance=instance.uuid, path=file)
        if wait:
            backup = backup.wait(timeout=timeout)
    emit(_describe(backup) if wait else backup, BACKUP_COLUMNS, state().fmt, single=True)
    if wait and backup.success != "SUCCESS":
        raise typer.Exit(1)


@backups_app.command("delete")
def backups_delete(backup: str, yes: YesOption = False):
    """Delete a backup and its artifacts (owner or admin)."""
    backups = state().client().backups
    target = backups.get(backup)
    question = f"Delete backup {target.uuid} ({target.notes or target.trigger}) and its artifacts?"
    delete_after_confirming(backups, target.uuid, question=question, done=f"Deleted backup {target.uuid}.", yes=yes)
