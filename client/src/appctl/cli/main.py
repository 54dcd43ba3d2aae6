import getpass
import json
import os
import sys
from typing import Annotated

import stamina.instrumentation
import typer

from ..client import Client
from ..config import resolve_url, save_login
from ..errors import APIError, AppctlError, WaitTimeout
from . import backups, configuration
from .common import (
    AppOption,
    EnvOption,
    LimitOption,
    State,
    TimeoutOption,
    WaitOption,
    YesOption,
    begin,
    command_group,
    delete_after_confirming,
    environment_of,
    state,
)
from .output import Format, emit, stderr

app = command_group("Work with an apps/v3 API server (appcontrol, or any server speaking the same API).")
apps_app = command_group("Applications.")
envs_app = command_group("Environments of an application.")
services_app = command_group("The service catalogue.")
instances_app = command_group("Service instances (databases, storage) of an environment.")
app.add_typer(apps_app, name="apps")
app.add_typer(envs_app, name="envs")
app.add_typer(services_app, name="services")
app.add_typer(instances_app, name="service-instances")
app.add_typer(backups.backups_app, name="backups")
configuration.register(app)


@app.callback()
def common(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(help="Server URL (env APPCTL_URL, else what `login` saved).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document (all pages).")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line.")] = False,
):
    ctx.obj = begin(State(url=url, fmt=Format.JSON if json_output else Format.JSONL if jsonl else Format.TABLE))


# -- account ---------------------------------------------------------------------------------------


@app.command()
def login(
    url: Annotated[str | None, typer.Option(help="Server URL to log in to.")] = None,
    token: Annotated[str | None, typer.Option(help="The token (default: prompt, hidden).")] = None,
):
    """Check a token and store it in ~/.netrc for the server's host (as divio-cli does)."""
    server = resolve_url(url or state().url)
    token = token or getpass.getpass(f"Token for {server}: ")
    me = Client(server, token).me()
    path = save_login(server, me["email"], token)
    stderr.print(f"Logged in to {server} as {me['email']} (token stored in {path}).")


@app.command()
def whoami():
    """Show the account the token belongs to."""
    me = state().client().me()
    emit(me, [], state().fmt, single=True)


# -- applications and environments ----------------------------------------------------------------

APP_COLUMNS = ["uuid", "slug", "name", "organisation"]


@apps_app.command("list")
def apps_list(limit: LimitOption = None, organisation: Annotated[str | None, typer.Option()] = None):
    """List applications (every page)."""
    emit(state().client().applications.list(limit=limit, organisation=organisation), APP_COLUMNS, state().fmt)


@apps_app.command("show")
def apps_show(application: Annotated[str, typer.Argument(help="Slug or id.")]):
    """Show one application."""
    emit(state().client().applications.resolve(application), APP_COLUMNS, state().fmt, single=True)


@apps_app.command("create")
def apps_create(
    slug: str,
    organisation: Annotated[str, typer.Option(help="Organisation id.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
):
    """Create an application (with its test and live environments)."""
    created = state().client().applications.create(slug=slug, name=name or slug, organisation=organisation)
    emit(created, APP_COLUMNS, state().fmt, single=True)


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


ENV_COLUMNS = ["uuid", "slug", "branch", "application"]


@envs_app.command("list")
def envs_list(application: AppOption):
    """List an application's environments."""
    client = state().client()
    emit(client.applications.resolve(application).bind(client).environments(), ENV_COLUMNS, state().fmt)


@envs_app.command("show")
def envs_show(application: AppOption, environment: EnvOption):
    """Show one environment."""
    emit(environment_of(application, environment), ENV_COLUMNS, state().fmt, single=True)


# -- services -------------------------------------------------------------------------------------


@services_app.command("list")
def services_list():
    """List the services the server can provision."""
    emit(state().client().services.list(), ["uuid", "identifier", "name", "type"], state().fmt)


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
    client = state().client()
    if method == "GET" and paginate:
        result = list(client.transport.paginate(path, fields))
    elif method == "GET":
        result = client.get(path, **fields)
    else:
        result = client.request(method, path, json=fields)
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")


def main() -> None:
    """Run the CLI; usage errors exit 2 (click), failures 1, timeouts 124, never with a traceback."""
    # Retries are quiet: the one line that matters is the error if they all fail.
    stamina.instrumentation.set_on_retry_hooks([])
    try:
        app(prog_name="appctl")
    except WaitTimeout as error:
        stderr.print(f"[red]error:[/] {error}", soft_wrap=True)
        sys.exit(124)
    except APIError as error:
        detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
        stderr.print(f"[red]error:[/] {error.status} {detail}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (AppctlError, OSError) as error:
        stderr.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - a bug of ours still gets one line, never a traceback
        if os.environ.get("APPCTL_DEBUG"):
            raise
        stderr.print(
            f"[red]error:[/] unexpected {type(error).__name__}: {error} (APPCTL_DEBUG=1 shows where)", soft_wrap=True
        )
        sys.exit(1)
