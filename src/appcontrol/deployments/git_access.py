"""How confined git authenticates to a private repository, without a secret on any command line.

- SSH (a deploy key): the key and this repository's known_hosts go into a private directory for one git run
  (removed afterwards); `GIT_SSH_COMMAND` names them. Host keys are trusted on first contact and kept on the
  repository, so a host that later shows another key is refused. Inside bubblewrap the sandbox's uid has no
  name, which ssh will not run without: a one-line /etc/passwd is bound in.
- HTTPS (user and password or token): a credential helper given in the environment (`GIT_CONFIG_COUNT`)
  prints them from two environment variables; the helper's own text holds no secret.
"""

import contextlib
import os
import pwd
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from appcontrol.core.sandbox import Sandbox, bubblewrap, drops_privileges, hand_over, private_directory, sandbox_uid

# `user@host:path`, git's scp-like SSH syntax (a `:` before any `/`, a user name required here).
SCP_URL = re.compile(r"^(?P<user>[A-Za-z0-9._~+-]+)@(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(?P<path>.+)$")
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
    '"$APPCONTROL_GIT_USERNAME" "$APPCONTROL_GIT_PASSWORD"; }; f'
)
SSH_CONNECT_TIMEOUT_SECONDS = 30


def transport(url: str) -> str:
    """The git transport a URL uses: its scheme, or `ssh` for the scp-like form."""
    if SCP_URL.match(url) and "://" not in url:
        return "ssh"
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


def ssh_parts(url: str) -> tuple[str, str, str] | None:
    """(user, host, path) of an SSH URL, or None when it is not one git would read as such. Raises
    ValueError for a malformed ssh:// URL (a bad port)."""
    match = SCP_URL.match(url)
    if match and "://" not in url:
        return match["user"], match["host"].strip("[]"), match["path"]
    parts = urlsplit(url)
    if parts.scheme != "ssh":
        return None
    parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    return parts.username or "", parts.hostname or "", parts.path


@dataclass
class Access:
    """What one git run adds to its environment and sandbox to authenticate."""

    env: dict[str, str] = field(default_factory=dict)
    writable: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    known_hosts: Path | None = None

    def confine(self, sandbox: Sandbox) -> Sandbox:
        return replace(sandbox, writable=(*sandbox.writable, *self.writable), files=(*sandbox.files, *self.files))


@contextlib.contextmanager
def access(repository):
    """The credentials of `repository` for the length of the block (nothing for a public one). Host keys
    first seen during the block are saved on the repository afterwards."""
    if repository.private_key_encrypted and transport(repository.url) == "ssh":
        with _ssh_access(repository) as found:
            yield found
    elif repository.password_encrypted:
        yield Access(
            env={
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "credential.helper",
                "GIT_CONFIG_VALUE_0": CREDENTIAL_HELPER,
                "APPCONTROL_GIT_USERNAME": repository.username,
                "APPCONTROL_GIT_PASSWORD": repository.password,
            }
        )
    else:
        yield Access()


def _private_file(path: Path, text: str) -> None:
    """Created 0600 (never readable by anyone else, not even for a moment), for the sandbox's uid."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    hand_over(path)


@contextlib.contextmanager
def _ssh_access(repository):
    uid = sandbox_uid()
    in_bubblewrap = bubblewrap() is not None
    if not in_bubblewrap and drops_privileges():
        try:
            pwd.getpwuid(uid)
        except KeyError:
            from .git import GitError

            raise GitError(
                f"ssh needs a user name for APPCONTROL_SANDBOX_UID={uid}: add it to /etc/passwd, or install bubblewrap."
            ) from None
    with private_directory() as directory:
        key, known_hosts = directory / "key", directory / "known_hosts"
        _private_file(key, repository.private_key)
        _private_file(known_hosts, repository.known_hosts)
        files: tuple[tuple[str, str], ...] = ()
        if in_bubblewrap:
            passwd = directory / "passwd"
            _private_file(passwd, f"appcontrol:x:{uid}:{uid}:appcontrol:/tmp:/usr/sbin/nologin\n")
            files = ((str(passwd), "/etc/passwd"),)
        command = [
            "ssh", "-F", "/dev/null", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=accept-new", "-o", "UpdateHostKeys=no",
            "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_SECONDS}",
        ]  # fmt: skip
        # git runs GIT_SSH_COMMAND through the shell: every word quoted (the paths are ours, but still).
        env = {"GIT_SSH_COMMAND": shlex.join(command), "GIT_SSH_VARIANT": "ssh"}
        try:
            yield Access(env=env, writable=(str(directory),), files=files, known_hosts=known_hosts)
        finally:
            _remember_host_keys(repository, known_hosts)


def _remember_host_keys(repository, known_hosts: Path) -> None:
    with contextlib.suppress(OSError):
        seen = known_hosts.read_text()
        if seen != repository.known_hosts:
            repository.known_hosts = seen
            type(repository).objects.filter(pk=repository.pk).update(known_hosts=seen)


# What went wrong, from git's and ssh's words: (code, pattern in the lower-cased error output).
PROBLEMS = [
    ("host_key", ("host key verification failed", "remote host identification has changed", "host key for")),
    (
        "authentication",
        (
            "permission denied", "authentication failed", "could not read username", "could not read password",
            "invalid username or password", "returned error: 401", "returned error: 403",
        ),
    ),
    (
        "unreachable",
        (
            "could not resolve", "connection refused", "timed out", "no route to host", "network is unreachable",
            "could not connect", "failed to connect", "connection closed", "connection reset",
            "kex_exchange_identification", "couldn't connect",
        ),
    ),
    ("not_found", ("does not appear to be a git repository", "repository not found", "not found")),
]  # fmt: skip
# Failures only our words explain well (git's own line would be "Could not read from remote repository").
CREDENTIAL_PROBLEMS = ("host_key", "authentication")
MESSAGES = {
    "host_key": "The SSH host key of {host} is not the one seen when the repository was first reached: the host "
    "was replaced, or someone is in between. If its key really changed, add the repository again.",
    "authentication": "The git host refused the credentials. For an SSH URL, add the deploy key (the "
    "repository's auth_info) to the repository at the git host (read access is enough); for HTTPS, check the "
    "user name and password or token. Then check the repository again.",
    "unreachable": "Cannot reach {host}: {detail}",
    "not_found": "{host} has no such repository (or hides it from these credentials): check the URL. {detail}",
}


def explain(url: str, stderr: str) -> tuple[str, str] | None:
    """(code, message for the repository's owner) for a failure we recognise, else None."""
    lowered = stderr.lower()
    for code, patterns in PROBLEMS:
        if any(pattern in lowered for pattern in patterns):
            return code, MESSAGES[code].format(host=_host(url) or "the git host", detail=_detail(stderr)).strip()
    return None


def _host(url: str) -> str:
    try:
        parts = ssh_parts(url)
        return parts[1] if parts else (urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _detail(stderr: str) -> str:
    """git's or ssh's own line, minus the advice git adds."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith(("warning: permanently added", "please make sure"))]
    return lines[0] if lines else ""
