"""What a confined child (psql, pg_restore, the archive helper) can and cannot reach, in both modes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appcontrol.core.sandbox import Child, Sandbox, bubblewrap, child_environment, drops_privileges, run_child

BASH = "/bin/bash"


@pytest.fixture(params=["auto", "none"])
def mode(request, settings):
    """Each test runs in bubblewrap (CI installs it) and in the fallback."""
    settings.APPCONTROL_SANDBOX = request.param
    if request.param == "auto" and bubblewrap() is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is not installed, but CI must test the sandbox")
        pytest.skip("bubblewrap is not installed")
    return request.param


def output_of(script: str, sandbox: Sandbox | None = None, timeout: float = 30) -> tuple[int, str]:
    sandbox = sandbox or Sandbox()
    with Child([BASH, "-c", script], sandbox, child_environment(), timeout, stdout=subprocess.PIPE) as child:
        out = child.stdout_pipe.read().decode()
        result = child.wait()
    return result.returncode, out + result.stderr


def test_no_operator_secret_reaches_the_environment(mode, monkeypatch, settings):
    monkeypatch.setenv("APPCONTROL_SECRET_KEY", "operator-secret")
    monkeypatch.setenv("APPCONTROL_POSTGRES_URL", "postgres://postgres:hunter2@db/postgres")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    _, environment = output_of("env")
    assert "operator-secret" not in environment and "hunter2" not in environment and "aws-secret" not in environment
    assert "APPCONTROL_" not in environment


@pytest.mark.skipif(not drops_privileges(), reason="only a root worker can run children under another uid")
def test_the_data_directory_and_secret_key_are_out_of_reach(mode, settings):
    secret = Path(settings.DATA_DIR) / "secret_key"
    assert secret.exists()
    status, out = output_of(f"cat {secret}; ls {settings.DATA_DIR}; touch {settings.DATA_DIR}/planted")
    assert status != 0 and secret.read_text().strip() not in out
    assert not (Path(settings.DATA_DIR) / "planted").exists()


@pytest.mark.skipif(not drops_privileges(), reason="only a root worker can run children under another uid")
def test_children_run_unprivileged(mode):
    _, out = output_of("id -u; cat /proc/self/status | grep CapEff")
    uid, capabilities = out.split("\n")[:2]
    assert uid == "65534" and capabilities.split()[-1] == "0000000000000000"


def test_only_bound_paths_are_writable(mode, tmp_path):
    """In bubblewrap, what is not bound does not exist; the fallback relies on its uid's own rights."""
    writable = tmp_path / "writable"
    writable.mkdir()
    sandbox = Sandbox(writable=(str(writable),))
    output_of(f"touch {writable}/inside; touch {tmp_path}/outside", sandbox)
    assert not (tmp_path / "outside").exists()
    if mode != "none":
        assert (writable / "inside").exists()


def test_no_network_unless_asked(mode, postgres_url_or_none):
    if mode == "none":
        pytest.skip("the fallback does not isolate the network (README: Security model)")
    probe = "exec 3<>/dev/tcp/127.0.0.1/5432 && echo connected"
    _, out = output_of(probe)
    assert "connected" not in out
    if postgres_url_or_none:
        _, out = output_of(probe, Sandbox(network=True))
        assert "connected" in out


def test_the_fallback_refuses_to_run_a_child_it_cannot_confine(settings, monkeypatch):
    """Without setpriv a child would keep the worker's uid and outlive it: no child at all, then."""
    import shutil

    from appcontrol.core import sandbox

    settings.APPCONTROL_SANDBOX = "none"
    real_which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, **kw: None if name == "setpriv" else real_which(name))
    with pytest.raises(sandbox.SandboxError, match="setpriv"):
        run_child(["/bin/true"], sandbox=Sandbox(), env=child_environment(), timeout=10)


def test_a_child_is_killed_at_its_deadline(mode):
    started = time.monotonic()
    result = run_child([BASH, "-c", "sleep 60"], sandbox=Sandbox(), env=child_environment(), timeout=0.5)
    assert result.timed_out and not result.ok and time.monotonic() - started < 30


def test_a_child_dies_with_the_worker_that_started_it(mode, settings, tmp_path):
    """A worker killed with -9 takes its children along: a restore's psql cannot go on and commit."""
    tag = f"{time.time_ns() % 10**6}.{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable, "-c",
            "import django, os, sys, time\n"
            "os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'\n"
            "django.setup()\n"
            "from django.conf import settings\n"
            f"settings.APPCONTROL_SANDBOX = {mode!r}\n"
            "from appcontrol.core.sandbox import Child, Sandbox, child_environment\n"
            f"with Child(['/bin/sleep', '{tag}'], Sandbox(), child_environment(), 600):\n"
            "    print('started', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )  # fmt: skip
    assert worker.stdout.readline().strip() == b"started"
    assert _wait_until(lambda: _processes(tag)), "the child did not start"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert _wait_until(lambda: not _processes(tag)), "the child outlived its worker"


def _wait_until(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _processes(tag: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"sleep {tag}"], capture_output=True, text=True).stdout.split()
    return [pid for pid in found if Path(f"/proc/{pid}/cmdline").exists() and "bwrap" not in _cmdline(pid)]


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def postgres_url_or_none(settings):
    return settings.APPCONTROL_POSTGRES_URL or None
