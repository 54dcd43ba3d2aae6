"""The real git client, as a user runs it against a hosted repository: its own home, no credential
helper, no prompt; credentials in the URL."""

import os
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


def with_credentials(url: str, token: str | None, user: str = "git") -> str:
    """`url` with Basic credentials (any user name, the token as the password)."""
    if token is None:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(token, safe='')}@{parts.netloc}"))


def git(*args: str, cwd: Path | None = None, check: bool = True, timeout: float = 120, env: dict | None = None):
    home = Path(cwd or ".").resolve() / ".." / "git-home"
    home.mkdir(exist_ok=True)
    git_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LANG": "C.UTF-8",
        "GIT_AUTHOR_NAME": "Pusher",
        "GIT_AUTHOR_EMAIL": "pusher@example.com",
        "GIT_COMMITTER_NAME": "Pusher",
        "GIT_COMMITTER_EMAIL": "pusher@example.com",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=git_env | (env or {}), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert result.returncode == 0, f"git {' '.join(args[:2])} failed: {result.stdout}{result.stderr}"
    return result


def work_tree(path: Path, files: dict[str, str | bytes], branch: str = "main") -> Path:
    """A local repository with one commit of `files`."""
    path.mkdir(parents=True)
    git("init", "-q", "-b", branch, cwd=path)
    return commit(path, files)


def commit(path: Path, files: dict[str, str | bytes], message: str = "change") -> Path:
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", message, cwd=path)
    return path


def head(path: Path) -> str:
    return git("rev-parse", "HEAD", cwd=path).stdout.strip()
