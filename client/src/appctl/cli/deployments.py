"""`appctl deploy`, `appctl deployments …`, `appctl builds …`, `appctl repos …` and `appctl logs`."""

import getpass
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from ..errors import NotFound, ValidationError
from .common import AppOption, EnvOption, LimitOption, TimeoutOption, WaitOption, command_group, environment_of, state
from .output import Format, emit, stderr

deployments_app = command_group("Deployments: list, show, read their logs, roll back.")
builds_app = command_group("Builds: the images deployments release.")
repos_app = command_group("Git repositories applications deploy from.")

DEPLOYMENT_COLUMNS = ["uuid", "started_at", "ended_at", "status", "percent", "success", "commit"]
BUILD_COLUMNS = ["uuid", "created_at", "branch", "commit", "state", "success"]
REPO_COLUMNS = ["uuid", "url", "state", "reason"]
BuildMode = Annotated[
    str, typer.Option("--build-mode", help="AUTO (re-use a build of the commit, or build), ADOPT, FORCE.")
]
LogsOption = Annotated[bool, typer.Option("--logs", help="Print the deployment's log as it grows.")]


def follow(deployment, *, timeout: float, show_logs: bool):
    """Wait for a deployment to end, its progress on stderr (and its log on stdout with `show_logs`)."""
    printed = 0

    def progress(current):
        nonlocal printed
        if show_logs:
            lines = current.logs().splitlines()
            for line in lines[printed:]:
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
            printed = len(lines)
        status.update(f"Deploying: {current.status} ({current.percent} %)")

    with stderr.status("Deploying: queued") as status:
        return deployment.wait(timeout=timeout, interval=2.0, on_progress=progress)


def conclude(deployment, *, wait: bool, timeout: float, show_logs: bool) -> None:
    """Print the deployment: at once with --no-wait, else once it ended (a failed one exits 1)."""
    if wait:
        deployment = follow(deployment, timeout=timeout, show_logs=show_logs)
    emit(deployment, DEPLOYMENT_COLUMNS, state().fmt, single=True)
    if wait:
        finish(deployment)


def finish(deployment) -> None:
    """Say how it ended; a failed deployment exits 1."""
    if deployment.success:
        stderr.print(f"Deployed: {deployment.uuid} ({(deployment.commit or '')[:12]}).", highlight=False)
        return
    stderr.print(f"[red]Deployment {deployment.uuid} failed:[/] {deployment.errors}", highlight=False)
    raise typer.Exit(1)


def deploy(
    application: AppOption, environment: EnvOption, build_mode: BuildMode = "AUTO",
    wait: WaitOption = True, logs: LogsOption = False, timeout: TimeoutOption = 3600,
):  # fmt: skip
    """Deploy an environment's branch: build (or re-use a build), release, switch with no downtime. Exit 1
    when it fails (the previous release keeps serving), 124 when --timeout passes first."""
    env = environment_of(application, environment)
    deployment = state().client().deployments.create(environment=env.uuid, build_mode=build_mode)
    conclude(deployment, wait=wait, timeout=timeout, show_logs=logs)


@deployments_app.command("list")
def deployments_list(
    application: AppOption,
    environment: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    limit: LimitOption = None,
):
    """List deployments, newest first (a running one included)."""
    client = state().client()
    app = client.applications.resolve(application)
    filters = {"application": app.uuid}
    if environment is not None:
        filters["environment"] = environment_of(application, environment).uuid
    emit(client.deployments.list(limit=limit, **filters), DEPLOYMENT_COLUMNS, state().fmt)


@deployments_app.command("show")
def deployments_show(deployment: str):
    """Show a deployment: status, progress, outcome, errors, the names of its variables."""
    emit(state().client().deployments.get(deployment), DEPLOYMENT_COLUMNS, state().fmt, single=True)


@deployments_app.command("logs")
def deployments_logs(deployment: str):
    """Print a deployment's log: every step, build and release command output, health checks."""
    sys.stdout.write(state().client().deployments.logs(deployment) + "\n")


@deployments_app.command("rollback")
def deployments_rollback(
    application: AppOption, environment: EnvOption,
    build: Annotated[str | None, typer.Option(help="Build to release (default: the one before the current).")] = None,
    wait: WaitOption = True, timeout: TimeoutOption = 3600,
):  # fmt: skip
    """Release an earlier successful build again: nothing is fetched or built."""
    client = state().client()
    env = environment_of(application, environment)
    if build is None:
        build = previous_build(client, env)
    deployment = client.deployments.rollback(environment=env.uuid, build=build)
    conclude(deployment, wait=wait, timeout=timeout, show_logs=False)


def previous_build(client, env) -> str:
    """The build serving before the current one: of the successful deployments, newest first, the first
    with another build than the newest."""
    current = None
    for deployment in client.deployments.list(environment=env.uuid, success="true"):
        if current is None:
            current = deployment.build
        elif deployment.build and deployment.build != current:
            return deployment.build
    raise NotFound(404, f"No earlier successful build of {env.slug} to roll back to.", "GET", "/apps/v3/deployments/")


@builds_app.command("list")
def builds_list(application: AppOption, limit: LimitOption = None):
    """List an application's builds, newest first."""
    client = state().client()
    emit(
        client.builds.list(application=client.applications.resolve(application).uuid, limit=limit),
        BUILD_COLUMNS,
        state().fmt,
    )


@builds_app.command("show")
def builds_show(build: str):
    """Show a build: commit, image, outcome."""
    emit(state().client().builds.get(build), BUILD_COLUMNS, state().fmt, single=True)


@builds_app.command("logs")
def builds_logs(build: str):
    """Print a build's output."""
    sys.stdout.write(state().client().builds.logs(build) + "\n")


@repos_app.command("add")
def repos_add(
    url: Annotated[str, typer.Argument(help="https://, http://, git://, ssh://git@host/path or git@host:path.")],
    organisation: Annotated[str, typer.Option(help="Organisation id.")],
    ssh_key: Annotated[bool, typer.Option("--ssh-key", help="SSH URL: let the server make a deploy key.")] = False,
    key_type: Annotated[str | None, typer.Option("--key-type", help="ED25519 (default), ECDSA or RSA.")] = None,
    username: Annotated[str | None, typer.Option("--username", help="HTTPS: the user at the git host.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password or token from stdin (else a hidden prompt).")
    ] = False,
    wait: WaitOption = True, timeout: TimeoutOption = 600,
):  # fmt: skip
    """Add a repository; the server clones it (state CLONED, or INVALID with the reason). For a private one:
    `--ssh-key` prints the deploy key to add at the git host (then `appctl repos check`); `--username` asks
    for the password or access token."""
    if key_type and not ssh_key:
        raise typer.BadParameter("--key-type goes with --ssh-key")
    if ssh_key and username:
        raise typer.BadParameter("Use either --ssh-key or --username")
    password = None
    if username:
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else getpass.getpass("Password or token: ")
        if not password:
            raise typer.BadParameter("An empty password: give one, or leave out --username")
    repository = state().client().repositories.create(
        organisation=organisation, url=url, key_type=(key_type or "ED25519") if ssh_key else None,
        username=username, password=password,
    )  # fmt: skip
    if repository.auth_info:
        wait = False  # the first clone cannot work before the key is added at the host
        stderr.print(f"Add this deploy key at the git host (read access), then `appctl repos check {repository.uuid}`:")
        if state().fmt is Format.TABLE:  # with --json, the document holds it as `auth_info`
            sys.stdout.write(repository.auth_info + "\n")
            sys.stdout.flush()
    if wait:
        with stderr.status(f"Cloning {url}…"):
            repository = repository.wait(timeout=timeout)
    emit(repository, REPO_COLUMNS, state().fmt, single=True)
    if wait and repository.state != "CLONED":
        raise typer.Exit(1)


@repos_app.command("check")
def repos_check(
    repository: str,
    branch: Annotated[str | None, typer.Option("--branch", help="A branch that must exist.")] = None,
):
    """Ask the server to reach the repository now (with its deploy key or password); exit 1 saying what is
    wrong otherwise. A repository that could not be cloned is cloned again after a success."""
    try:
        state().client().repositories.check(repository, branch=branch)
    except ValidationError as error:
        body = error.detail if isinstance(error.detail, dict) else {}
        message = " ".join(body.get("non_field_errors") or [str(error.detail)])
        stderr.print(f"[red]{body.get('code', 'error')}:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    stderr.print("The repository can be read" + (f" and has the branch {branch}." if branch else "."))


@repos_app.command("list")
def repos_list(limit: LimitOption = None):
    """List repositories."""
    emit(state().client().repositories.list(limit=limit), REPO_COLUMNS, state().fmt)


@repos_app.command("show")
def repos_show(repository: str):
    """Show a repository and its state."""
    emit(state().client().repositories.get(repository), REPO_COLUMNS, state().fmt, single=True)


def parse_since(value: str) -> datetime:
    """`10m`, `2h`, `1d` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(match[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: use e.g. 10m, 2h, 1d or 2026-11-28T07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def logs(
    application: AppOption, environment: EnvOption,
    since: Annotated[str | None, typer.Option(help="From this long ago (10m, 2h, 1d) or this time (ISO 8601).")] = None,
    follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="Without --since: how many of the newest lines.")] = 100,
):  # fmt: skip
    """Print what an environment's processes printed (web, release), oldest first."""
    env = environment_of(application, environment)
    start = parse_since(since) if since else None
    try:
        for entry in env.logs(since=start, follow=follow_, lines=lines):
            sys.stdout.write(f"{entry['timestamp']} {entry['service']}: {entry['message']}\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return
