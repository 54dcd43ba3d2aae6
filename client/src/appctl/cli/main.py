import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..client import Client
from ..config import resolve_url, save_login
from ..errors import APIError, AppctlError, WaitTimeout
from . import configuration
from .common import AppOption, EnvOption, LimitOption, TimeoutOption, WaitOption, environment_of, state
from .output import Format, emit, size, stderr

app = typer.Typer(
    help="Work with an apps/v3 API server (appcontrol, or any server speaking the same API).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
apps_app = typer.Typer(help="Applications.", no_args_is_help=True)
envs_app = typer.Typer(help="Environments of an application.", no_args_is_help=True)
services_app = typer.Typer(help="The service catalogue.", no_args_is_help=True)
instances_app = typer.Typer(help="Service instances (databases, storage) of an environment.", no_args_is_help=True)
backups_app = typer.Typer(help="Backups: take, find, download, restore, upload.", no_args_is_help=True)
app.add_typer(apps_app, name="apps")
app.add_typer(envs_app, name="envs")
app.add_typer(services_app, name="services")
app.add_typer(instances_app, name="service-instances")
app.add_typer(backups_app, name="backups")
configuration.register(app)


@app.callback()
def common(
    url: Annotated[str | None, typer.Option(help="Server URL (env APPCTL_URL, else what `login` saved).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document (all pages).")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line.")] = False,
):
    state.url = url
    state.fmt = Format.JSON if json_output else Format.JSONL if jsonl else Format.TABLE


# -- account ---------------------------------------------------------------------------------------


@app.command()
def login(
    url: Annotated[str | None, typer.Option(help="Server URL to log in to.")] = None,
    token: Annotated[str | None, typer.Option(help="The token (default: prompt, hidden).")] = None,
):
    """Check a token and store it in ~/.netrc for the server's host (as divio-cli does)."""
    server = resolve_url(url or state.url)
    token = token or getpass.getpass(f"Token for {server}: ")
    me = Client(server, token).me()
    path = save_login(server, me["email"], token)
    stderr.print(f"Logged in to {server} as {me['email']} (token stored in {path}).")


@app.command()
def whoami():
    """Show the account the token belongs to."""
    me = state.client().me()
    emit(me, [], state.fmt, single=True)


# -- applications and environments ----------------------------------------------------------------

APP_COLUMNS = ["uuid", "slug", "name", "organisation"]


@apps_app.command("list")
def apps_list(limit: LimitOption = None, organisation: Annotated[str | None, typer.Option()] = None):
    """List applications (every page)."""
    emit(state.client().applications.list(limit=limit, organisation=organisation), APP_COLUMNS, state.fmt)


@apps_app.command("show")
def apps_show(application: Annotated[str, typer.Argument(help="Slug or id.")]):
    """Show one application."""
    emit(state.client().applications.resolve(application), APP_COLUMNS, state.fmt, single=True)


@apps_app.command("create")
def apps_create(
    slug: str,
    organisation: Annotated[str, typer.Option(help="Organisation id.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
):
    """Create an application (with its test and live environments)."""
    created = state.client().applications.create(slug=slug, name=name or slug, organisation=organisation)
    emit(created, APP_COLUMNS, state.fmt, single=True)


@apps_app.command("delete")
def apps_delete(
    application: Annotated[str, typer.Argument(help="Slug or id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
):
    """Delete an application and its environments (owner or admin)."""
    client = state.client()
    target = client.applications.resolve(application)
    if not yes:
        typer.confirm(f"Delete {target.slug} and everything in it?", abort=True, err=True)
    client.applications.delete(target.uuid)
    stderr.print(f"Deleted {target.slug}.")


ENV_COLUMNS = ["uuid", "slug", "branch", "application"]


@envs_app.command("list")
def envs_list(application: AppOption):
    """List an application's environments."""
    client = state.client()
    emit(client.applications.resolve(application).bind(client).environments(), ENV_COLUMNS, state.fmt)


@envs_app.command("show")
def envs_show(application: AppOption, environment: EnvOption):
    """Show one environment."""
    emit(environment_of(application, environment), ENV_COLUMNS, state.fmt, single=True)


# -- services -------------------------------------------------------------------------------------


@services_app.command("list")
def services_list():
    """List the services the server can provision."""
    emit(state.client().services.list(), ["uuid", "identifier", "name", "type"], state.fmt)


INSTANCE_COLUMNS = ["uuid", "prefix", "type", "service_status", "service", "errors"]


@instances_app.command("list")
def instances_list(application: AppOption, environment: EnvOption):
    """List an environment's service instances."""
    emit(environment_of(application, environment).service_instances(), INSTANCE_COLUMNS, state.fmt)


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
    client = state.client()
    env = environment_of(application, environment)
    service_id = next((s.uuid for s in client.services.list() if service in (s.identifier, s.uuid)), service)
    instance = client.service_instances.create(environment=env.uuid, service=service_id, prefix=prefix)
    if wait:
        from ..waiting import wait_until

        with stderr.status("Provisioning…"):
            instance = wait_until(
                lambda: client.service_instances.get(instance.uuid),
                lambda i: i.service_status in ("ATTACHED", "ERROR"),
                timeout,
                1.0,
            )
        if instance.service_status == "ERROR":
            stderr.print(f"[red]Provisioning failed:[/] {'; '.join(instance.errors)}")
            raise typer.Exit(1)
    emit(instance, INSTANCE_COLUMNS, state.fmt, single=True)


# -- backups --------------------------------------------------------------------------------------

BACKUP_COLUMNS = ["uuid", "created_at", "trigger", "state", "success", "notes"]


@backups_app.command("list")
def backups_list(
    application: AppOption, environment: EnvOption, limit: LimitOption = None,
    success: Annotated[str | None, typer.Option(help="SUCCESS, PARTIAL or FAILURE.")] = None,
):  # fmt: skip
    """List an environment's backups, newest first (every page unless --limit)."""
    env = environment_of(application, environment)
    emit(state.client().backups.list(environment=env.uuid, success=success, limit=limit), BACKUP_COLUMNS, state.fmt)


def _describe(backup) -> dict:
    parts = []
    for part in backup.service_instance_backups():
        parts.append(
            {
                "uuid": part.uuid, "service_type": part.service_type, "service_instance": part.service_instance_id,
                "taken_at": part.taken_at, "size": part.size, "sha256": part.sha256, "errors": part.errors,
            }
        )  # fmt: skip
    return {**backup.model_dump(mode="json", by_alias=True), "parts": parts}


@backups_app.command("show")
def backups_show(backup: str):
    """Show a backup with its parts (size, sha256, errors)."""
    emit(_describe(state.client().backups.get(backup)), [], state.fmt, single=True)


@backups_app.command("create")
def backups_create(
    application: AppOption, environment: EnvOption, notes: Annotated[str | None, typer.Option()] = None,
    wait: WaitOption = True, timeout: TimeoutOption = 3600,
):  # fmt: skip
    """Back up every service instance of an environment."""
    client = state.client()
    backup = client.backups.create(environment=environment_of(application, environment).uuid, notes=notes)
    if wait:
        with stderr.status(f"Backing up {application}/{environment}…"):
            backup = backup.wait(timeout=timeout)
    emit(_describe(backup) if wait else backup, BACKUP_COLUMNS, state.fmt, single=True)
    if wait and backup.success != "SUCCESS":
        raise typer.Exit(1)


@backups_app.command("latest")
def backups_latest(
    application: AppOption, environment: EnvOption,
    service_type: Annotated[str | None, typer.Option("--type", help="DATABASE or STORAGE.")] = None,
):  # fmt: skip
    """When was the latest successful backup taken, how big is it, and what does it hold?"""
    found = state.client().backups.latest(application=application, environment=environment, service_type=service_type)
    if found is None:
        stderr.print(f"No successful backup of {application}/{environment} yet.")
        raise typer.Exit(1)
    backup, parts = found
    rows = [
        {
            "backup": backup.uuid, "part": part.uuid, "type": part.service_type,
            "service_instance": instance.prefix if instance else part.service_instance_id,
            "taken_at": part.taken_at.isoformat() if part.taken_at else None, "size": size(part.size),
            "sha256": part.sha256,
        }
        for part, instance in parts
    ]  # fmt: skip
    if state.fmt is Format.TABLE:
        stderr.print(f"Latest successful backup of {application}/{environment}: {backup.uuid}")
    emit(rows, ["type", "service_instance", "taken_at", "size", "part"], state.fmt)


@backups_app.command("download")
def backups_download(
    backup: str,
    part: Annotated[str | None, typer.Option(help="Part id (default: the only or the database part).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: by part).")] = None,
):
    """Download a backup part, resuming an interrupted download, and verify its sha256."""
    client = state.client()
    parts = client.backups.get(backup).service_instance_backups()
    chosen = next((p for p in parts if p.uuid == part), None) if part else _default_part(parts)
    if chosen is None:
        stderr.print("Name the part with --part; this backup has: " + ", ".join(p.uuid for p in parts))
        raise typer.Exit(2)
    target = output or Path(f"{chosen.service_type.lower()}-{chosen.uuid}.artifact")
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=stderr) as bar:
        task = bar.add_task(target.name, total=chosen.size)
        path = client.backups.download(
            backup, chosen.uuid, target, on_progress=lambda done, total: bar.update(task, completed=done)
        )
    stderr.print(f"Saved {path} ({size(chosen.size)}, sha256 verified).")


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
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
):  # fmt: skip
    """Restore every part of a backup, into its own environment or (with --into-env) another one."""
    client = state.client()
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
    emit(restore, ["uuid", "finished", "success"], state.fmt, single=True)
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
    client = state.client()
    env = environment_of(application, environment)
    instance = next((i for i in env.service_instances() if i.type == service_type and i.prefix == prefix), None)
    if instance is None:
        stderr.print(f"[red]{environment} has no {service_type} with prefix {prefix}.[/]")
        raise typer.Exit(1)
    with stderr.status(f"Uploading {file.name}…"):
        backup = client.backups.upload(environment=env.uuid, service_instance=instance.uuid, path=file)
        if wait:
            backup = backup.wait(timeout=timeout)
    emit(_describe(backup) if wait else backup, BACKUP_COLUMNS, state.fmt, single=True)
    if wait and backup.success != "SUCCESS":
        raise typer.Exit(1)


# -- anything else --------------------------------------------------------------------------------


@app.command()
def api(
    method: Annotated[str, typer.Argument(help="GET, POST, PUT, PATCH or DELETE.")],
    path: Annotated[str, typer.Argument(help="e.g. /apps/v3/applications/")],
    paginate: Annotated[bool, typer.Option("--paginate", help="Merge every page of a list into one array.")] = False,
    field: Annotated[
        list[str] | None,
        typer.Option("-f", "--field", help="key=value: a query parameter for GET, a body field otherwise; may repeat."),
    ] = None,
):  # fmt: skip
    """Call any endpoint and print its JSON, like `gh api`."""
    method = method.upper()
    if method not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        raise typer.BadParameter(f"unknown method {method}")
    fields = {}
    for item in field or []:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r} is not key=value")
        key, value = item.split("=", 1)
        fields[key] = value
    client = state.client()
    if method == "GET" and paginate:
        result = list(client.paginate(path, **fields))
    elif method == "GET":
        result = client.get(path, **fields)
    else:
        result = client.request(method, path, json=fields)
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")


def main() -> None:
    """Run the CLI; usage errors exit 2 (click), failures 1, timeouts 124, never with a traceback."""
    try:
        app()
    except WaitTimeout as error:
        stderr.print(f"[red]error:[/] {error}")
        sys.exit(124)
    except APIError as error:
        detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
        stderr.print(f"[red]error:[/] {error.status} {detail}", highlight=False)
        sys.exit(1)
    except (AppctlError, OSError) as error:
        stderr.print(f"[red]error:[/] {error}")
        sys.exit(1)
