"""A real appcontrol server process on the embedded default, shared by a test module."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("appcontrol-data")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["APPCONTROL_DATA_DIR"] = str(data_dir)
    # Fast heartbeats and reaping, so a killed worker is noticed within seconds.
    env.update(
        APPCONTROL_JOB_HEARTBEAT_SECONDS="1",
        APPCONTROL_JOB_STALE_SECONDS="4",
        APPCONTROL_SCHEDULER_INTERVAL_SECONDS="1",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    appcontrol = [sys.executable, "-m", "appcontrol"]
    subprocess.run([*appcontrol, "migrate", "--no-input", "-v0"], env=env, check=True)
    demo = subprocess.run([*appcontrol, "demo", "--url", url], env=env, check=True, capture_output=True, text=True)
    token = next(line.split("TOKEN=")[1] for line in demo.stdout.splitlines() if "export TOKEN=" in line)
    process = subprocess.Popen(
        [*appcontrol, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{url}/apps/v3/")
            break
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"server did not start:\n{process.stdout.read()}")
            time.sleep(0.2)
    yield {"url": url, "token": token, "process": process, "data_dir": data_dir, "demo": demo.stdout, "env": env}
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


def wait_for(predicate, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("timed out waiting")
