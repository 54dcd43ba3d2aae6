"""What every command shares: the server connection chosen by the global options, and the options
that name an application and an environment."""

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated

import typer

from ..client import Client
from ..errors import NotFound
from .output import Format, stderr


@dataclass
class State:
    """What one invocation of appctl chose with its global options; the client is made when first needed."""

    url: str | None = None
    fmt: Format = Format.TABLE
    _client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            self._client = Client.from_env(self.url)
        return self._client


_invocation: ContextVar[State | None] = ContextVar("appctl_invocation", default=None)


def begin(chosen: State) -> State:
    """Called by the top-level callback: this invocation's state (also its `ctx.obj`)."""
    _invocation.set(chosen)
    return chosen


def state() -> State:
    """The current invocation's state: a context variable, so invocations in one process (tests, programs
    that call the CLI) never share a client or an output format."""
    current = _invocation.get()
    return current if current is not None else begin(State())


def command_group(help: str) -> typer.Typer:
    """A group of commands (`appctl backups …`). Help is plain text: it fits 80 columns and a pipe, and
    shows no `<bool>` for a flag."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)


AppOption = Annotated[str, typer.Option("--app", "-a", help="Application slug or id.")]
EnvOption = Annotated[str, typer.Option("--env", "-e", help="Environment slug, e.g. live or test.")]
WaitOption = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it finishes, with progress.")]
TimeoutOption = Annotated[float, typer.Option(help="Seconds to wait before giving up (exit code 124).")]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Stop after this many items (default: all).")]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]


def environment_of(app_ref: str, env_slug: str):
    """The environment `env_slug` of the application with slug or id `app_ref`; when there is none, the
    error names the application by its slug and lists the environments it has."""
    client = state().client()
    application = client.applications.resolve(app_ref)
    try:
        return client.environments.get_by_slug(application.uuid, env_slug)
    except NotFound as error:
        existing = ", ".join(env.slug for env in client.environments.list(application=application.uuid)) or "none"
        raise NotFound(
            404, f"No environment {env_slug!r} in {application.slug} (it has: {existing}).", error.method, error.url
        ) from None


def delete_after_confirming(resource, uuid: str, *, question: str, done: str, yes: bool) -> None:
    """Delete `uuid` through `resource` once the user agrees (or gave --yes), then say `done` on stderr."""
    if not yes:
        typer.confirm(question, abort=True, err=True)
    resource.delete(uuid)
    stderr.print(done)


def application_environments(application: str):
    """The application and its environments as {id: slug}, in two requests."""
    client = state().client()
    app = client.applications.resolve(application)
    return app, {env.uuid: env.slug for env in app.bind(client).environments()}


def environment_id(slugs: dict[str, str], environment: str) -> str:
    found = next((env_id for env_id, slug in slugs.items() if slug == environment), None)
    if found is None:
        stderr.print(f"[red]No environment {environment!r}; there are: {', '.join(slugs.values())}.[/]")
        raise typer.Exit(1)
    return found
