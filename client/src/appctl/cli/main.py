"""`appctl`: the command line. Each noun's commands live in a module of their own; this one holds the
global options, `login`, `whoami`, `api` and the entry point."""

import getpass
import json
import os
import sys
from typing import Annotated

import typer

from ..client import Client
from ..config import resolve_url, save_login
from ..errors import APIError, AppctlError, WaitTimeout
from . import (
    activities,
    applications,
    backups,
    deployments,
    domains,
    env_vars,
    environments,
    organisations,
    regions,
    schedules,
    service_instances,
    services,
)
from .common import State, begin, command_group, state
from .output import Format, emit, stderr

app = command_group("Work with an apps/v3 API server (appcontrol, or any server speaking the same API).")
# One module per noun, each with its group of commands.
for group, name in [
    (applications.apps_app, "apps"), (environments.envs_app, "envs"), (services.services_app, "services"),
    (service_instances.instances_app, "service-instances"), (backups.backups_app, "backups"),
    (schedules.schedules_app, "schedules"), (env_vars.variables_app, "env-vars"), (domains.domains_app, "domains"),
    (organisations.orgs_app, "orgs"), (regions.regions_app, "regions"),
    (deployments.deployments_app, "deployments"), (deployments.builds_app, "builds"),
    (deployments.repos_app, "repos"), (activities.activities_app, "activities"),
    (activities.templates_app, "templates"),
]:  # fmt: skip
    app.add_typer(group, name=name)
app.command("deploy")(deployments.deploy)
app.command("logs")(deployments.logs)


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
