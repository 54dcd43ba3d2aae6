"""Every appctl command people and scripts run, in each output mode — on a terminal, in a pipe, `--json` —
against a real server: no traceback, ever; output a script can trust; errors that name the thing."""

import http.server
import json
import os
import pty
import re
import subprocess
import sys
import threading

import appctl
import pytest

from .conftest import free_port
from .test_appctl import client, history, run_cli  # noqa: F401 - that module's fixtures, reused here

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
APP = ["-a", "example-application"]
LIVE = [*APP, "-e", "live"]


def run_on_terminal(server, *args) -> subprocess.CompletedProcess:
    """appctl with a terminal as its stdout (tables), 80 columns wide."""
    leader, follower = pty.openpty()
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "APPCTL_TOKEN": server["token"], "COLUMNS": "80"}
    process = subprocess.Popen(
        [sys.executable, "-m", "appctl", "--url", server["url"], *args],
        env=env, stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    return subprocess.CompletedProcess(args, process.returncode, b"".join(chunks).decode(), stderr)


@pytest.fixture(scope="module")
def backup_id(history):  # noqa: F811 - the fixture imported above
    return history["real"].uuid


COMMANDS = {
    "whoami": lambda b: ["whoami"],
    "apps list": lambda b: ["apps", "list"],
    "apps show": lambda b: ["apps", "show", "example-application"],
    "envs list": lambda b: ["envs", "list", *APP],
    "service-instances list": lambda b: ["service-instances", "list", *LIVE],
    "backups list": lambda b: ["backups", "list", *LIVE, "--limit", "3"],
    "backups show": lambda b: ["backups", "show", b],
    "backups latest": lambda b: ["backups", "latest", *LIVE],
    "schedules list": lambda b: ["schedules", "list", *APP],
    "env-vars list": lambda b: ["env-vars", "list", *APP],
}


@pytest.mark.parametrize("mode", ["terminal", "pipe", "json"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_every_mode(server, backup_id, command, mode):
    args = COMMANDS[command](backup_id)
    if mode == "terminal":
        result = run_on_terminal(server, *args)
    else:
        result = run_cli(server, *(["--json"] if mode == "json" else []), *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.strip()
    if mode == "json":
        json.loads(result.stdout)


def test_creating_a_backup_on_a_terminal_shows_its_parts(server, history):  # noqa: F811
    result = run_on_terminal(server, "backups", "create", *[*APP, "-e", "test"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "service_type=DATABASE" in result.stdout and "taken_at=" in result.stdout


def test_json_has_utc_timestamps_and_sizes_in_bytes(server, backup_id):
    latest = json.loads(run_cli(server, "--json", "backups", "latest", *LIVE).stdout)
    assert all(isinstance(row["size"], int) and ISO_UTC.match(row["taken_at"]) for row in latest)
    shown = json.loads(run_cli(server, "--json", "backups", "show", backup_id).stdout)
    assert ISO_UTC.match(shown["created_at"])
    assert all(ISO_UTC.match(part["taken_at"]) and isinstance(part["size"], int) for part in shown["parts"])


def test_a_single_object_in_a_pipe_is_key_tab_value_lines(server, backup_id):
    lines = run_cli(server, "backups", "show", backup_id).stdout.splitlines()
    assert f"uuid\t{backup_id}" in lines and all("\t" in line for line in lines)


def test_latest_prints_the_backup_id_on_stdout(server, backup_id):
    rows = [line.split("\t") for line in run_cli(server, "backups", "latest", *LIVE).stdout.splitlines()]
    assert rows and all(row[0] == backup_id for row in rows)


def test_ids_are_never_cut_in_80_columns(server, backup_id):
    result = run_on_terminal(server, "backups", "list", *LIVE, "--limit", "1")
    assert backup_id in result.stdout.replace("\n", "").replace(" ", "").replace("│", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apps", "show", "nope"], "No application with the slug or id 'nope'."),
        (["backups", "list", *APP, "-e", "staging"], "No environment 'staging' in example-application (it has: "),
    ],
)
def test_errors_name_the_thing(server, args, message):
    result = run_cli(server, *args)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_a_server_that_is_down_is_one_line(server):
    result = run_cli({**server, "url": f"http://127.0.0.1:{free_port()}"}, "apps", "list")
    assert result.returncode == 1 and "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_url_without_a_scheme_is_one_line(server):
    result = run_cli({**server, "url": server["url"].removeprefix("http://")}, "apps", "list")
    assert result.returncode == 1 and "http://" in result.stderr and "Traceback" not in result.stderr


def test_https_against_a_plain_http_server_is_one_line(server):
    result = run_cli({**server, "url": server["url"].replace("http://", "https://")}, "apps", "list")
    assert result.returncode == 1 and "plain-HTTP" in result.stderr and "Traceback" not in result.stderr


def test_an_upload_retried_after_a_failed_put_sends_the_whole_file(tmp_path):
    """The first PUT fails with 503; the retry must read the file from its start again."""
    received = []

    class Flaky(http.server.BaseHTTPRequestHandler):
        def _json(self, status, body):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/apps/v3/backups/upload/":
                target = {
                    "upload_parameters": {"url": f"{base}/put", "max_file_size": 10**9},
                    "finish_url": f"{base}/f",
                }
                return self._json(201, {"uuid": "b", "results": {"si": target}})
            return self._json(202, {})

        def do_PUT(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(body)
            self._json(503 if len(received) == 1 else 200, {})

        def do_GET(self):  # noqa: N802
            self._json(200, {"uuid": "b", "state": "WORKING", "service_instance_backups": []})

        def log_message(self, *args):
            pass

    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    dump = tmp_path / "dump.sql"
    dump.write_bytes(b"SELECT 1;\n" * 100_000)
    try:
        with appctl.Client(f"http://127.0.0.1:{fake.server_address[1]}", token="apc_x") as client:
            client.backups.upload(environment="e", service_instance="si", path=dump)
    finally:
        fake.shutdown()
    assert len(received) == 2 and received[1] == dump.read_bytes()


HELPED = [[], ["backups"], ["backups", "create"], ["backups", "delete"], ["schedules", "set"], ["env-vars", "list"]]


@pytest.mark.parametrize("command", HELPED)
def test_help_shows_no_types_for_flags(server, command):
    result = run_cli(server, *command, "--help")
    assert result.returncode == 0 and "<bool>" not in result.stdout and "Usage: appctl" in result.stdout


def test_a_download_is_named_after_what_it_holds(server, backup_id, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "APPCTL_TOKEN": server["token"]}
    result = subprocess.run(
        [sys.executable, "-m", "appctl", "--url", server["url"], "backups", "download", backup_id],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = [path.name for path in tmp_path.iterdir()]
    assert len(names) == 1 and re.fullmatch(r"example-application-live-default-\d{8}-\d{6}\.(dump|sqlite3)", names[0])
