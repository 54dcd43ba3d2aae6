"""Repositories hosted by appcontrol itself: an application without an external `repository` gets a bare
repository under the data dir that its members push to over HTTP (git_http), and that its deployments
build from.

Pushes are hostile. The repository is laid out so that a confined git can change only what a push must:
its configuration and HEAD are bound read-only over the writable repository in the sandbox (without
bubblewrap: owned by the server's user in a sticky directory), `objects/` and `refs/` are the sandbox's.
Whatever git runs on it gets the settings below on its command line (GIT_CONFIG_COUNT), which take
precedence over any file: no hooks, objects checked, a bounded pack size, no gc, no deletions.
"""

import subprocess
from dataclasses import replace
from pathlib import Path

from django.conf import settings

from appcontrol.core.sandbox import Child, Sandbox, child_environment, hand_over, run_child

from . import git

WRITABLE_PARTS = ("objects", "refs")
PROTECTED = ("config", "HEAD")
SKELETON = ("objects/info", "objects/pack", "refs/heads", "refs/tags")
# The repository's own file says the same as the command line: a git started on it by hand behaves alike.
REPOSITORY_CONFIG = """\
[core]
\trepositoryformatversion = 0
\tbare = true
\thooksPath = /dev/null
\tlogAllRefUpdates = false
[receive]
\tfsckObjects = true
\tdenyDeletes = true
\tdenyDeleteCurrent = true
\tdenyNonFastForwards = false
\tautogc = false
\tshallowUpdate = false
[gc]
\tauto = 0
"""


def hosted_dir() -> Path:
    return settings.APPCONTROL_HOSTED_REPOSITORIES_DIR


def hosted_path(application) -> Path:
    return hosted_dir() / f"{application.pk}.git"


def forced_config() -> dict[str, str]:
    """Settings every git process on a hosted repository runs with, whatever a file says."""
    return {
        "core.hooksPath": "/dev/null",  # never run a hook: a push must not start a program
        "core.fsmonitor": "false",
        "receive.fsckObjects": "true",
        "receive.maxInputSize": str(settings.APPCONTROL_GIT_PUSH_MAX_BYTES),
        "receive.denyDeletes": "true",
        "receive.denyDeleteCurrent": "true",
        # Force pushes are allowed, as Heroku and Dokku allow them: a rewritten branch deploys like any other.
        "receive.denyNonFastForwards": "false",
        "receive.autogc": "false",
        "receive.shallowUpdate": "false",
        "receive.advertisePushOptions": "false",
        "gc.auto": "0",
        "http.receivepack": "true",
        "http.uploadpack": "true",
        "http.getanyfile": "false",  # the dumb protocol would serve any file of the repository
        "uploadpack.allowFilter": "false",
    }


def git_env(**variables: str) -> dict[str, str]:
    config = forced_config()
    env = child_environment(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(git.GIT_CONFIG),
        GIT_ALLOW_PROTOCOL="none",  # a hosted repository never fetches from anywhere
        GIT_CONFIG_COUNT=str(len(config)),
        **variables,
    )
    for index, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    return env


def sandbox(path: Path, *, writable: bool) -> Sandbox:
    """The repository read-only; for a push writable, but for its configuration and HEAD (bound read-only
    over it: a push cannot change what git reads as settings)."""
    if not writable:
        return Sandbox(read_only=(str(git.GIT_CONFIG), str(path)))
    protected = tuple(str(path / name) for name in PROTECTED)
    return Sandbox(read_only=(str(git.GIT_CONFIG),), writable=(str(path),), protected=protected)


def ensure(application, default_branch: str = "main") -> Path:
    """The application's hosted repository, made on first use: plain files, no git needed to make it."""
    path = hosted_path(application)
    if (path / "HEAD").exists():
        return path
    # Traversable, not listable: the sandbox's unprivileged uid reaches its own repository only.
    hosted_dir().mkdir(parents=True, exist_ok=True, mode=0o711)
    with git.locked(path):
        if (path / "HEAD").exists():
            return path
        path.mkdir(exist_ok=True)
        # Without bubblewrap, the sandbox's uid must create lock files here (HEAD.lock when the branch HEAD
        # names is pushed) but never replace config or HEAD: ours, in a sticky directory.
        path.chmod(0o1777)
        for part in SKELETON:
            (path / part).mkdir(parents=True, exist_ok=True)
        (path / "config").write_text(REPOSITORY_CONFIG)
        # Only the parts a push writes belong to the fallback sandbox's uid; config and HEAD stay ours.
        for part in WRITABLE_PARTS:
            for directory in [path / part, *(path / part).iterdir()]:
                hand_over(directory)
        (path / "HEAD").write_text(f"ref: refs/heads/{default_branch}\n")  # last: its presence means "made"
    return path


def refs(path: Path) -> dict[str, str]:
    """Branch name → commit, as the repository holds them now."""
    argv = ["git", "--git-dir", str(path), "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]
    with Child(argv, sandbox(path, writable=False), git_env(), settings.APPCONTROL_GIT_TIMEOUT_SECONDS,
               stdout=subprocess.PIPE) as child:  # fmt: skip
        output = child.stdout_pipe.read().decode("utf-8", "replace")
        result = child.wait()
    if not result.ok:
        raise git.GitError(f"Cannot read the hosted repository's branches: {git._last_lines(result.stderr)}")
    branches = {}
    for line in output.splitlines():
        commit, _, name = line.partition(" ")
        branches[name.removeprefix("refs/heads/")] = commit
    return branches


def _output(path: Path, argv: list[str], stdout=subprocess.PIPE) -> Child:
    return Child(
        ["git", "--git-dir", str(path), *argv],
        sandbox(path, writable=False),
        git_env(),
        settings.APPCONTROL_GIT_TIMEOUT_SECONDS,
        stdout=stdout,
    )


def resolve(application, branch: str) -> str:
    """The commit the branch points at in the hosted repository (nothing to fetch: pushes bring it)."""
    path = hosted_path(application)
    commit = ""
    if (path / "HEAD").exists():
        with _output(path, ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"]) as child:
            commit = child.stdout_pipe.read().decode().strip()
            result = child.wait()
        if not result.ok:
            commit = ""
    if not commit:
        raise git.GitError(
            f"The branch {branch!r} does not exist in the application's hosted repository: push it first "
            f"(git push <the application's git_url> {branch})."
        )
    return commit


def export(application, commit: str, destination: Path) -> None:
    """Write the tree of `commit` into `destination`, as git.export does for a mirror."""
    path = hosted_path(application)
    with _output(path, ["archive", "--format=tar", commit]) as archive:
        git.extract(archive.stdout_pipe, destination)
        result = archive.wait()
    if not result.ok:
        raise git.GitError(
            f"Cannot read commit {commit[:12]}: {git._last_lines(result.stderr) or 'git archive failed.'}"
        )
    git.links_stay_inside(destination)


def seed(application, source: Path, source_branch: str, branch: str) -> None:
    """Start the hosted repository with the history of `source_branch` of the local mirror `source` (a
    template's) as `branch`. Nothing but that mirror is read; the fetch is confined like a push."""
    path = ensure(application, default_branch=branch)
    argv = [
        "git", "--git-dir", str(path), "fetch", "--quiet", "--no-tags", "--", str(source),
        f"+refs/heads/{source_branch}:refs/heads/{branch}",
    ]  # fmt: skip
    confined = sandbox(path, writable=True)
    confined = replace(confined, read_only=(*confined.read_only, str(source)))
    env = git_env()
    env["GIT_ALLOW_PROTOCOL"] = "file"  # the mirror, a local path, and nothing else
    with git.locked(path):
        result = run_child(argv, sandbox=confined, env=env, timeout=settings.APPCONTROL_GIT_TIMEOUT_SECONDS)
    if not result.ok:
        raise git.GitError(f"Cannot copy the template: {git._last_lines(result.stderr) or 'git fetch failed.'}")


def remove(application_id) -> None:
    """The hosted repository of a deleted application goes with it."""
    git.remove(hosted_dir() / f"{application_id}.git")
