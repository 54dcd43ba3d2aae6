"""A real appcontrol server process on the embedded default, shared by a test module."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, token=None, method="GET", body=None):
    headers = {"authorization": f"Token {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@contextlib.contextmanager
def running_server(data_dir: Path, workers: int = 1, **extra_env: str):
    """`appcontrol serve` on a free port with demo data in `data_dir`; its output goes to `data_dir/server.log`."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["APPCONTROL_DATA_DIR"] = str(data_dir)
    env["HOME"] = str(data_dir / "home")  # whatever the server leaves in a home directory stays here
    (data_dir / "home").mkdir()
    # Fast heartbeats and reaping, so a killed worker is noticed within seconds.
    env.update(
        APPCONTROL_JOB_HEARTBEAT_SECONDS="1",
        APPCONTROL_JOB_STALE_SECONDS="4",
        APPCONTROL_SCHEDULER_INTERVAL_SECONDS="1",
        # Each test server's router (when Caddy is installed) on a port of its own.
        APPCONTROL_ROUTER_BIND=f"127.0.0.1:{free_port()}",
    )
    env.update(extra_env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    appcontrol = [sys.executable, "-m", "appcontrol"]
    subprocess.run([*appcontrol, "migrate", "--no-input", "-v0"], env=env, check=True)
    demo = subprocess.run([*appcontrol, "demo", "--url", url], env=env, check=True, capture_output=True, text=True)
    token = next(line.split("TOKEN=")[1] for line in demo.stdout.splitlines() if "export TOKEN=" in line)
    log_path = data_dir / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*appcontrol, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{url}/apps/v3/")
            break
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
    yield {
        "url": url, "token": token, "process": process, "data_dir": data_dir, "demo": demo.stdout, "env": env,
        "log": log_path,
    }  # fmt: skip
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # Databases on a shared PostgreSQL cluster outlive the data dir: remove them.
    cleanup = (
        "from appcontrol.services.models import ServiceInstance\n"
        "from appcontrol.services.engines import engine_for\n"
        "for i in ServiceInstance.objects.select_related('service'): engine_for(i.service.engine).deprovision(i)"
    )
    subprocess.run([*appcontrol, "shell", "-c", cleanup], env=env, check=True)


DIVIO_CLI = Path(__file__).resolve().parents[2] / ".venv-divio" / "bin" / "divio"
DIVIO_SHIMS = Path(__file__).with_name("divio_cli_shims")


def divio_cli(server, tmp_path_factory, compose: str = "") -> dict:
    """The official divio-cli, configured for `server` in a home of its own, in a project folder for the demo
    application. `run(*args, check=True)` runs `divio -z URL … --remote-id APP` and returns the result."""
    binary = Path(os.environ.get("DIVIO_CLI", DIVIO_CLI))
    if not binary.exists():
        if os.environ.get("CI"):
            pytest.fail(f"divio-cli is not installed at {binary} (make test installs it)")
        pytest.skip("divio-cli is not installed; `make test` installs it into .venv-divio")
    home = tmp_path_factory.mktemp("divio-home")
    (home / ".config" / "divio").mkdir(parents=True)
    # No update check, no error reporting, and the compose command through the stand-in.
    (home / ".config" / "divio" / "config.json").write_text(
        json.dumps({"update_check_timestamp": 9999999999, "sentry-dsn": "", "docker-compose": ["docker", "compose"]})
    )
    (home / ".netrc").write_text(f"machine 127.0.0.1\n  login api@demo.example\n  password {server['token']}\n")
    (home / ".netrc").chmod(0o600)
    _, _, apps = get(f"{server['url']}/apps/v3/applications/?slug=example-application", server["token"])
    app = apps["results"][0]["uuid"]
    project = tmp_path_factory.mktemp("divio-project")
    (project / ".divio").mkdir()
    (project / ".divio" / "config.json").write_text(
        json.dumps({"application_uuid": app, "id": 1, "slug": "example-application", "zone": server["url"]})
    )
    if compose:
        (project / "docker-compose.yml").write_text(compose)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": f"{DIVIO_SHIMS}:{os.environ['PATH']}",
        "LANG": "C.UTF-8",
    }

    def run(*args, cwd=project, check=True, timeout=180, remote_id=True, input=None):
        result = subprocess.run(
            [str(binary), "-z", server["url"], *args, *(["--remote-id", app] if remote_id else [])],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout
        return result

    return {"run": run, "project": project, "app": app}


@pytest.fixture(scope="module")
def server():
    # Outside pytest's private temporary directory: without bubblewrap, confined git runs as an unprivileged
    # uid that must reach the demo's repository and template mirror in the data dir.
    data = Path(tempfile.mkdtemp(prefix="appcontrol-e2e-"))
    data.chmod(0o755)
    try:
        with running_server(data) as running:
            yield running
    finally:
        shutil.rmtree(data, ignore_errors=True)


def wait_for(predicate, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def server_shell(server, code: str) -> str:
    """Run Python in the server's own environment (its data dir and database); return the last line."""
    result = subprocess.run(
        [sys.executable, "-m", "appcontrol", "shell", "-c", code],
        env=server["env"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def filterless(server):
    """A proxy in front of the server that drops every query parameter but paging, like an API
    without filters; `next` links are rewritten to point at the proxy."""
    import http.server
    import threading
    from urllib.parse import parse_qsl, urlencode, urlsplit

    upstream = server["url"]

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self):
            parts = urlsplit(self.path)
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k in {"page", "page_size", "cursor"}]
            url = f"{upstream}{parts.path}" + (f"?{urlencode(kept)}" if kept else "")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in {"authorization", "content-type", "range"}}
            request = urllib.request.Request(url, data=body, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                    status, payload, content_type = (
                        response.status,
                        response.read(),
                        response.headers.get("Content-Type"),
                    )
            except urllib.error.HTTPError as error:
                status, payload, content_type = error.code, error.read(), error.headers.get("Content-Type")
            proxy_url = f"http://127.0.0.1:{self.server.server_address[1]}"
            payload = payload.replace(upstream.encode(), proxy_url.encode())
            self.send_response(status)
            self.send_header("Content-Type", content_type or "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, *args):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}"
    proxy.shutdown()
