"""Bare mirrors of the repositories applications deploy from, and checkouts of one commit for a build.

A repository's content is hostile: git runs as a confined child (core.sandbox) with an empty environment,
no terminal prompt, no system or global configuration, only the transports the repository may use, and a
time limit. A checkout is extracted from `git archive` with tarfile's `data` filter (no absolute paths,
no links leaving the tree, no device files) and a size bound.
"""

import contextlib
import fcntl
import ipaddress
import os
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from appcontrol.core.sandbox import Child, Sandbox, child_environment, hand_over, run_child

from . import git_access

NETWORK_SCHEMES = ("https", "http", "git", "ssh")
OPERATOR_SCHEMES = ("file",)
CHECKOUT_MAX_BYTES = 2 * 1024**3
# Read as the global configuration: `-c safe.directory` would not reach the upload-pack of a file:// clone.
GIT_CONFIG = Path(__file__).with_name("gitconfig")


class GitError(Exception):
    """git failed; the message says why in words fit for the repository's owner, `code` what kind of failure
    it was when known (`host_key`, `authentication`, `unreachable`, `not_found`, `branch_missing`)."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


def url_problem(url: str, *, operator: bool) -> str | None:
    """Why `url` cannot be a repository's URL, or None. Credentials in URLs are refused (they would be
    shown as `dsn`); `file://` is for operators, who may deploy from this host's own disk."""
    if git_access.transport(url) == "ssh":
        return _ssh_url_problem(url, operator=operator)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "Not a valid URL."
    allowed = NETWORK_SCHEMES + (OPERATOR_SCHEMES if operator else ())
    if parts.scheme not in allowed:
        return f"Use a URL starting with {', '.join(f'{scheme}://' for scheme in allowed)}, or user@host:path."
    if parts.scheme != "file" and not hostname:
        return "The URL needs a host name."
    if parts.scheme != "file" and not operator and _internal(hostname):
        return "The URL names this server's own network (loopback, private or link-local): use a public host."
    if parts.username or parts.password:
        return "Do not put credentials in the URL (it is shown as dsn): give them as username and password."
    if any(character.isspace() or ord(character) < 32 for character in url):
        return "The URL must not contain spaces or control characters."
    return None


def _ssh_url_problem(url: str, *, operator: bool) -> str | None:
    """`ssh://user@host[:port]/path` or `user@host:path`: the user is a name, not a credential (the deploy key
    is); neither a user nor a host may read as an option to ssh."""
    try:
        user, host, path = git_access.ssh_parts(url) or ("", "", "")
    except ValueError:
        return "Not a valid URL."
    if any(character.isspace() or ord(character) < 32 for character in url):
        return "The URL must not contain spaces or control characters."
    if urlsplit(url).password if "://" in url else False:
        return "Do not put a password in the URL: the server makes a deploy key for SSH."
    if not user or not host or not path.strip("/"):
        return "An SSH URL needs a user, a host and a path: ssh://git@host/owner/repo.git or git@host:owner/repo.git."
    if user.startswith("-") or host.startswith("-"):
        return "Not a valid URL."
    if not operator and _internal(host):
        return "The URL names this server's own network (loopback, private or link-local): use a public host."
    return None


def _internal(hostname: str) -> bool:
    """A host a member must not make the server fetch from: this machine and private networks, by name or
    by any address it resolves to — `127.1`, `2130706433` and `0x7f000001` are loopback too. (A name may
    resolve differently when git connects: the operator's firewall is the full answer.)"""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        found = {info[4][0] for info in socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError, ValueError):
        found = {hostname}  # unresolvable here: git will not reach it either; a literal is still judged
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            continue
        if any((address.is_loopback, address.is_private, address.is_link_local, address.is_unspecified,
                address.is_reserved, address.is_multicast)):  # fmt: skip
            return True
    return False


def _refuse_internal(repository) -> None:
    """Checked again before each clone, fetch and check: what a name resolves to may have changed since the
    repository was added. Repositories an operator added may reach internal hosts."""
    if getattr(repository, "allow_internal", False) or git_access.transport(repository.url) == "file":
        return
    host = git_access.ssh_parts(repository.url)[1] if git_access.transport(repository.url) == "ssh" else None
    if host is None:
        host = urlsplit(repository.url).hostname or ""
    if _internal(host):
        raise GitError(
            f"{host} is on this server's own network (loopback, private or link-local): use a public host.",
            code="unreachable",
        )


def mirror_path(repository) -> Path:
    return settings.APPCONTROL_REPOSITORIES_DIR / f"{repository.pk}.git"


def _git_env(repository_url: str) -> dict[str, str]:
    scheme = git_access.transport(repository_url)
    if scheme not in NETWORK_SCHEMES + OPERATOR_SCHEMES:
        scheme = "none"  # no such transport: git refuses every one (`ext::` parses as the scheme "ext")
    return child_environment(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(GIT_CONFIG),
        # Only the repository's own transport: never ext::, never a local path a URL was crafted to reach.
        GIT_ALLOW_PROTOCOL=scheme,
        GIT_ASKPASS="/bin/false",
        SSH_ASKPASS="/bin/false",
    )


def _sandbox(repository_url: str, mirror: Path, writable: bool) -> Sandbox:
    parts = urlsplit(repository_url)
    source = (parts.path,) if parts.scheme == "file" else ()
    if writable:
        return Sandbox(read_only=(str(GIT_CONFIG), *source), writable=(str(mirror),), network=not source)
    return Sandbox(read_only=(str(GIT_CONFIG), str(mirror)))


def _run(argv: list[str], url: str, mirror: Path, *, doing: str, access=None) -> None:
    """Run git on the mirror (writable); a failure says `doing` and git's reason."""
    access = access or git_access.Access()
    timeout = settings.APPCONTROL_GIT_TIMEOUT_SECONDS
    result = run_child(
        ["git", *argv],
        sandbox=access.confine(_sandbox(url, mirror, writable=True)),
        env={**_git_env(url), **access.env},
        timeout=timeout,
    )
    if result.timed_out:
        raise GitError(f"{doing}: git did not finish within {timeout:.0f} s.", code="unreachable")
    if not result.ok:
        code, reason = git_access.explain(url, result.stderr) or ("", "")
        if code not in git_access.CREDENTIAL_PROBLEMS:  # git's own line says it best
            reason = _last_lines(result.stderr) or f"git exited with code {result.returncode}."
        raise GitError(f"{doing}: {reason}", code=code)


def _last_lines(text: str, count: int = 3) -> str:
    """git's reason: its first `fatal:`/`error:` line (what went wrong, not the advice after it), else the
    last lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return " ".join(lines[-count:])


@contextlib.contextmanager
def locked(mirror: Path):
    """One git process at a time writes a repository (two deployments fetching the same mirror, two pushes
    to one hosted repository)."""
    # Traversable, not listable: the sandbox's unprivileged uid reaches its own mirror only.
    mirror.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
    with open(mirror.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def clone(repository) -> None:
    """Make the bare mirror (again, from nothing)."""
    _refuse_internal(repository)
    mirror = mirror_path(repository)
    with locked(mirror):
        shutil.rmtree(mirror, ignore_errors=True)
        mirror.mkdir(mode=0o700)
        hand_over(mirror)
        argv = ["clone", "--mirror", "--quiet", "--", repository.url, str(mirror)]
        with git_access.access(repository) as access:
            _run(argv, repository.url, mirror, doing=f"Cannot clone {repository.url}", access=access)


def remove(path: Path) -> None:
    """A bare repository and its lock file, once no git process writes it."""
    if path.exists():
        with locked(path):
            shutil.rmtree(path, ignore_errors=True)
        path.with_suffix(".lock").unlink(missing_ok=True)


def fetch(repository) -> None:
    _refuse_internal(repository)
    mirror = mirror_path(repository)
    if not (mirror / "HEAD").exists():
        clone(repository)
        return
    with locked(mirror):
        argv = ["--git-dir", str(mirror), "fetch", "--prune", "--quiet", "origin"]
        with git_access.access(repository) as access:
            _run(argv, repository.url, mirror, doing=f"Cannot fetch {repository.url}", access=access)


def check(repository, branch: str = "") -> None:
    """Ask the git host now whether the repository can be read with its credentials (and has `branch`);
    raises GitError with a `code` otherwise. Bounded by the git timeout."""
    _refuse_internal(repository)
    url = repository.url
    source = (urlsplit(url).path,) if git_access.transport(url) == "file" else ()
    sandbox = Sandbox(read_only=(str(GIT_CONFIG), *source), network=not source)
    patterns = [f"refs/heads/{branch}"] if branch else []
    argv = ["git", "ls-remote", "--heads", "--", url, *patterns]
    with git_access.access(repository) as access:
        child = Child(argv, access.confine(sandbox), {**_git_env(url), **access.env},
                      settings.APPCONTROL_GIT_TIMEOUT_SECONDS, stdout=subprocess.PIPE)  # fmt: skip
        with child:
            listed = child.stdout_pipe.read(64 * 1024).decode("utf-8", "replace")
            result = child.wait()
    if result.timed_out:
        timeout = settings.APPCONTROL_GIT_TIMEOUT_SECONDS
        raise GitError(f"The git host did not answer within {timeout:.0f} s.", code="unreachable")
    if not result.ok:
        code, reason = git_access.explain(url, result.stderr) or ("error", "")
        raise GitError(reason or f"git cannot read {url}: {_last_lines(result.stderr)}", code=code)
    if branch and not listed.strip():
        raise GitError(
            f"The repository has no branch {branch!r}: push it, or choose another one.", code="branch_missing"
        )


def _output(argv: list[str], repository, mirror: Path, stdout=subprocess.PIPE):
    return Child(
        ["git", "--git-dir", str(mirror), *argv],
        _sandbox(repository.url, mirror, writable=False),
        _git_env(repository.url),
        settings.APPCONTROL_GIT_TIMEOUT_SECONDS,
        stdout=stdout,
    )


def resolve(repository, branch: str) -> str:
    """The commit the branch points at in the mirror."""
    mirror = mirror_path(repository)
    with _output(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"], repository, mirror) as child:
        commit = child.stdout_pipe.read().decode().strip()
        result = child.wait()
    if not result.ok or not commit:
        raise GitError(f"The branch {branch!r} does not exist in {repository.url}.")
    return commit


def export(repository, commit: str, destination: Path) -> None:
    """Write the tree of `commit` into `destination` (an empty directory the sandbox's uid may write)."""
    mirror = mirror_path(repository)
    with _output(["archive", "--format=tar", commit], repository, mirror) as archive:
        extract(archive.stdout_pipe, destination)
        result = archive.wait()
    if not result.ok:
        raise GitError(f"Cannot read commit {commit[:12]}: {_last_lines(result.stderr) or 'git archive failed.'}")
    links_stay_inside(destination)


def extract(stream, destination: Path) -> None:
    """Unpack a tar stream into `destination` with GNU tar, confined: only `destination` is writable to it,
    so no member (a link, a path through a link, `..`) can write anywhere else, whatever tar lets through.
    Python's `tarfile` filters are not relied on (CVE-2025-4517). At most CHECKOUT_MAX_BYTES pass."""
    argv = ["tar", "--extract", "--no-same-owner", "--no-same-permissions", "--directory", str(destination)]
    sandbox = Sandbox(writable=(str(destination),))
    timeout = settings.APPCONTROL_GIT_TIMEOUT_SECONDS
    with Child(argv, sandbox, child_environment(), timeout, stdin=subprocess.PIPE) as tar:
        total = 0
        try:
            while chunk := stream.read(1024 * 1024):
                total += len(chunk)
                if total > CHECKOUT_MAX_BYTES:
                    raise GitError(f"The commit's files exceed {CHECKOUT_MAX_BYTES // 1024**3} GiB.")
                tar.stdin_pipe.write(chunk)
            tar.stdin_pipe.close()
        except BrokenPipeError:
            pass  # tar stopped early: its exit status says why
        result = tar.wait()
    if not result.ok:
        raise GitError(f"Cannot unpack the commit's files: {_last_lines(result.stderr) or 'tar failed.'}")


def pack(directory: Path, archive: Path) -> None:
    """Tar `directory` into `archive` (the build context), confined and bounded in time like the unpacking:
    the tree is the tenant's, read by tar, never walked by this process."""
    argv = ["tar", "--create", "--file", "-", "--directory", str(directory), "."]
    with open(archive, "wb") as target:
        with Child(argv, Sandbox(read_only=(str(directory),)), child_environment(),
                   settings.APPCONTROL_GIT_TIMEOUT_SECONDS, stdout=target) as tar:  # fmt: skip
            result = tar.wait()
    if not result.ok:
        raise GitError(f"Cannot pack the commit's files for the build: {_last_lines(result.stderr) or 'tar failed.'}")


def links_stay_inside(root: Path) -> None:
    """Refuse a checkout holding a symbolic link that leads out of it: the build context is read by this
    process (`.dockerignore`, the Dockerfile), which must never follow a tenant's link to a host file."""
    top = root.resolve()
    for path in root.rglob("*"):
        if path.is_symlink() and not path.resolve().is_relative_to(top):
            raise GitError(
                f"The commit holds a link leading out of the repository: {path.relative_to(root)} -> "
                f"{os.readlink(path)}. Links must point inside the repository."
            )
