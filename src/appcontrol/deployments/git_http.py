"""`/git/<organisation>/<application>.git`: git's smart HTTP protocol for hosted repositories, served by
`git http-backend` (CGI) confined in the sandbox, behind the API's own token checks.

- Authentication: HTTP Basic, any user name, an API token as the password (AccessTokenAuthentication's
  checks: expiry, revocation, inactive users). No or a wrong token: 401 with a Basic challenge, counted
  against the per-address limit for requests without a valid token (as the API counts them).
- An application the token does not see (another organisation, a token limited to another one, an unknown
  path, an application deploying from an external repository): 404. A read-only token clones and fetches;
  its push is refused with 403 and a message git shows.
- Request and response bodies stream through; a push larger than APPCONTROL_GIT_PUSH_MAX_BYTES is refused.
- After a push, the branches it changed start deployments of environments with `auto_deploy`; git shows
  what happened as `remote:` lines, added to receive-pack's sideband (no hook runs on the server).
"""

import base64
import binascii
import contextlib
import logging
import re
import subprocess
import threading

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from appcontrol.accounts.authentication import AccessTokenAuthentication
from appcontrol.accounts.rate_limits import quota_consume, too_many_requests
from appcontrol.applications.selectors import applications_visible
from appcontrol.core.actor import acting
from appcontrol.core.sandbox import Child, SandboxError

from . import git, git_body, hosted, services

logger = logging.getLogger(__name__)

PATH = re.compile(
    r"(?P<organisation>[a-z0-9-]{1,63})/(?P<application>[a-z0-9-]{1,63})\.git/"
    r"(?P<endpoint>info/refs|git-upload-pack|git-receive-pack)"
)
SERVICES = ("git-upload-pack", "git-receive-pack")
CHUNK = 64 * 1024
# Beyond the pack itself a push carries its ref commands; more than this over the limit is cut off.
PUSH_OVERHEAD_BYTES = 1024 * 1024
# Once git has answered, how long the body's reader may take to notice (it stops at the client's next read).
FEEDER_GRACE_SECONDS = 5
GIT_PROTOCOL = re.compile(r"[A-Za-z0-9=:._-]{1,100}")
REALM = 'Basic realm="appcontrol"'


def _text(status: int, message: str, **headers) -> HttpResponse:
    """git prints a text/plain error body as `remote:` lines."""
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _not_found() -> HttpResponse:
    return _text(404, "Repository not found.")


def _token_of(request) -> str | None:
    """The token in an `Authorization: Basic` header: the password, or the user name when the password is
    empty (`https://<token>@host/…`); None without Basic credentials."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(parts[1], validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return password or user


def _authenticate(request):
    """(user, token), or a response refusing the request."""
    clear = _token_of(request)
    caller = None
    if clear:
        try:
            caller = AccessTokenAuthentication().authenticate_token(clear)
        except AuthenticationFailed:
            caller = None
    quota = quota_consume(request, caller)
    if quota is not None and quota.exceeded:
        return None, too_many_requests(quota, caller)
    if caller is None:
        message = "Authentication required: use an API token as the password." if clear is None else "Invalid token."
        return None, _text(401, message, WWW_Authenticate=REALM)
    return caller, None


@csrf_exempt  # Basic credentials, never a session cookie; POST bodies must carry git's own content types
def serve(request, path: str):
    match = PATH.fullmatch(path)
    if match is None:
        return _not_found()
    endpoint = match["endpoint"]
    if endpoint == "info/refs":
        service, method = request.GET.get("service"), "GET"
        if service not in SERVICES:
            return _text(403, "Only git's smart HTTP protocol is served: use git 1.6.6 or newer.")
    else:
        service, method = endpoint, "POST"
    if request.method != method:
        return _text(405, f"Use {method}.", Allow=method)

    caller, refusal = _authenticate(request)
    if refusal is not None:
        return refusal
    request.user, request.auth = caller
    application = (
        applications_visible(request)
        .filter(slug=match["application"], organisation__slug=match["organisation"], repository__isnull=True)
        .first()
    )
    if application is None:
        return _not_found()
    pushing = service == "git-receive-pack"
    if pushing and caller[1].read_only:
        return _text(403, "This token is read-only: it may clone and fetch, not push. Push with another token.")
    if method == "POST" and request.META.get("CONTENT_TYPE") != f"application/x-{service}-request":
        return _text(415, f"Expected a body of type application/x-{service}-request.")
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "")
    if method == "POST" and encoding and (pushing or encoding not in git_body.COMPRESSED):
        return _text(415, "Send pushes uncompressed (git does); a fetch request may be gzip.")

    branch = application.environments.order_by("created_at").values_list("branch", flat=True).first() or "main"
    path_on_disk = hosted.ensure(application, default_branch=branch)
    backend = Backend(request, application, caller[0], path_on_disk, service, endpoint)
    try:
        return backend.response()
    except SandboxError as error:
        logger.error("git http-backend cannot run: %s", error)
        return _text(503, "The server cannot run git at the moment.")


class Backend:
    """One run of `git http-backend`: the request body into its stdin, its CGI answer streamed back."""

    def __init__(self, request, application, user, path, service: str, endpoint: str):
        self.request, self.application, self.user, self.path = request, application, user, path
        self.service, self.endpoint = service, endpoint
        self.receiving = service == "git-receive-pack" and endpoint != "info/refs"
        self.head = bytearray()  # the start of a push's body: its capabilities
        self.fed = 0
        self.too_large = False
        self.refused = ""  # why the body was cut off (git_body's bounds)
        self.compressed = request.META.get("HTTP_CONTENT_ENCODING", "") in git_body.COMPRESSED

    def environment(self) -> dict[str, str]:
        meta = self.request.META
        variables = {
            "GIT_PROJECT_ROOT": str(self.path.parent),
            "GIT_HTTP_EXPORT_ALL": "1",
            # Built from the application's id, never from the request's path.
            "PATH_INFO": f"/{self.path.name}/{self.endpoint}",
            "REQUEST_METHOD": self.request.method,
            "QUERY_STRING": f"service={self.service}" if self.endpoint == "info/refs" else "",
            "REMOTE_ADDR": meta.get("REMOTE_ADDR", ""),
        }
        if self.request.method == "POST":
            variables["CONTENT_TYPE"] = meta["CONTENT_TYPE"]
            # A gzip body reaches git unpacked (git_body), so its length is not the request's.
            if meta.get("CONTENT_LENGTH") and not self.compressed:
                variables["CONTENT_LENGTH"] = meta["CONTENT_LENGTH"]
        protocol = meta.get("HTTP_GIT_PROTOCOL", "")
        if GIT_PROTOCOL.fullmatch(protocol):
            variables["GIT_PROTOCOL"] = protocol
        return hosted.git_env(**variables)

    def feed(self, child: Child) -> None:
        """Copy the request body to git, within git_body's bounds and at most the push limit of it. The WSGI
        input is read directly: Django's own stream reads nothing of a chunked body (no Content-Length)."""
        stream = self.request.META["wsgi.input"]
        length = self.request.META.get("CONTENT_LENGTH")
        remaining = int(length) if length and length.isdigit() else None
        limit = settings.APPCONTROL_GIT_PUSH_MAX_BYTES + PUSH_OVERHEAD_BYTES
        gunzip = git_body.Gunzip() if self.compressed else None
        commands = git_body.PushCommands() if self.receiving else None
        try:
            with _idle_timeout(self.request, settings.APPCONTROL_GIT_IDLE_SECONDS):
                while remaining is None or remaining > 0:
                    chunk = stream.read(CHUNK if remaining is None else min(CHUNK, remaining))
                    if not chunk:
                        break
                    if remaining is not None:
                        remaining -= len(chunk)
                    self.fed += len(chunk)
                    if self.fed > limit:
                        self.too_large = True
                        break  # git sees a cut-off pack and refuses it; the repository keeps what it had
                    data = gunzip.feed(chunk) if gunzip else chunk
                    if commands:
                        commands.feed(data)
                    if len(self.head) < 8192:
                        self.head += data[: 8192 - len(self.head)]
                    child.stdin_pipe.write(data)
        except git_body.BodyRefused as refused:
            self.refused = str(refused)
            child.kill()  # git would wait for the rest, or act on the part it got
        except (BrokenPipeError, OSError):
            pass  # git stopped reading (it refused the push), or the client stalled: git's answer says why
        finally:
            try:
                child.stdin_pipe.close()
            except OSError:
                pass

    def response(self):
        stream = self.run()
        status, headers = next(stream)
        if status is None and self.refused:
            return _text(413, self.refused)
        if status is None:
            return _text(502, "git could not answer this request.")
        response = StreamingHttpResponse(stream, status=status, content_type=headers.pop("content-type", None))
        for name, value in headers.items():
            response[name] = value
        return response

    def run(self):
        """Yields (status, headers) first, then the body's chunks; closing it stops git."""
        with contextlib.ExitStack() as stack:
            before = None
            if self.receiving:
                stack.enter_context(git.locked(self.path))  # one push at a time: its refs before and after are its own
                before = hosted.refs(self.path)
            child = stack.enter_context(
                Child(
                    ["git", "http-backend"],
                    hosted.sandbox(self.path, writable=self.receiving),
                    self.environment(),
                    settings.APPCONTROL_GIT_TIMEOUT_SECONDS,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
            feeder = threading.Thread(target=self.feed, args=(child,), daemon=True)
            feeder.start()
            output = child.stdout_pipe
            status, headers = _cgi_headers(output)
            if status is None:
                feeder.join(FEEDER_GRACE_SECONDS)  # git is gone: a client that sends nothing more is not waited for
                result = child.wait()
                logger.warning("git http-backend gave no answer: %s", result.stderr[-500:])
                yield None, {}
                return
            yield status, headers
            held = b""  # the last four bytes: receive-pack's final flush, which messages go before
            read = getattr(output, "read1", output.read)  # what git has written so far, not a full chunk
            while chunk := read(CHUNK):
                data = held + chunk
                held, data = data[-4:], data[:-4]
                if data:
                    yield data
            feeder.join(FEEDER_GRACE_SECONDS)
            result = child.wait()
            if before is not None:
                lines = self.after_push(before, result)
                if lines and held == b"0000" and self.sideband():
                    held = b"".join(_sideband_line(line) for line in lines) + held
            yield held

    def sideband(self) -> bool:
        """Whether the push asked for sideband messages (its first command line's capabilities)."""
        if self.request.META.get("HTTP_CONTENT_ENCODING") or len(self.head) < 4:
            return False
        try:
            length = int(bytes(self.head[:4]), 16)
        except ValueError:
            return False
        capabilities = bytes(self.head[4:length]).partition(b"\0")[2].split()
        return b"side-band-64k" in capabilities or b"side-band" in capabilities

    def after_push(self, before: dict[str, str], result) -> list[str]:
        if self.too_large:
            return [f"The push exceeds {settings.APPCONTROL_GIT_PUSH_MAX_BYTES} bytes and was refused."]
        if self.refused:
            return [f"The push was refused: {self.refused}"]
        after = hosted.refs(self.path)
        changed = {name: commit for name, commit in after.items() if before.get(name) != commit}
        if not changed:
            return []
        with acting(self.user, self.request.auth):  # the deployments a push starts are the pusher's
            return services.hosted_push_deploy(application=self.application, branches=changed, user=self.user)


@contextlib.contextmanager
def _idle_timeout(request, seconds: float):
    """A client that stops sending its body for `seconds` is cut off (the read fails), instead of holding a
    server thread and the repository's lock until git's own time limit. gunicorn hands over its socket."""
    connection = request.META.get("gunicorn.socket")
    if connection is None:
        yield
        return
    before = connection.gettimeout()
    connection.settimeout(seconds)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            connection.settimeout(before)


def _cgi_headers(output) -> tuple[int | None, dict[str, str]]:
    """Read the CGI header block: `Status:` and the headers to pass on."""
    status, headers = 200, {}
    for _ in range(100):
        line = output.readline(8192)
        if not line:
            return None, {}
        line = line.rstrip(b"\r\n")
        if not line:
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "status":
            try:
                status = int(value.split()[0])
            except (ValueError, IndexError):
                return None, {}
        elif name in {"content-type", "cache-control", "expires", "pragma"}:
            headers[name] = value
    return None, {}


def _sideband_line(text: str) -> bytes:
    """A progress line on sideband 2: git prints it as `remote: <text>`."""
    payload = b"\x02" + text.encode("utf-8")[:1000] + b"\n"
    return f"{len(payload) + 4:04x}".encode() + payload
