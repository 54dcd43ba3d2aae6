"""The README's examples, run as written against a real server (the demo of `make run`).

Only what a reader must fill in is filled in: the server's address for `http://127.0.0.1:8000`, `$TOKEN`,
and the placeholders in angle brackets (an id from an earlier answer).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import get, running_server

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
REPOSITORY = Path(__file__).resolve().parents[2]


def block_after(heading: str, language: str = "sh") -> str:
    """The first fenced block of `language` after the line holding `heading`."""
    after = README[README.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", after, re.DOTALL)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("appcontrol-readme")) as running:
        yield running


@pytest.fixture(scope="module")
def filled(server):
    status, _, apps = get(f"{server['url']}/apps/v3/applications/?slug=example-application", server["token"])
    assert status == 200
    return {"<application uuid>": apps["results"][0]["uuid"], "<uuid>": apps["results"][0]["uuid"]}


def shell(server, script: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    script = script.replace("http://127.0.0.1:8000", server["url"])
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "TOKEN": server["token"],
        "APPCTL_TOKEN": server["token"], "APPCTL_URL": server["url"], "HOME": str(cwd), "COLUMNS": "120",
    }  # fmt: skip
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
    )


def test_the_seeds_requests(server, filled, tmp_path):
    script = block_after("The seed's requests, against the demo")
    for placeholder, value in filled.items():
        script = script.replace(placeholder, value)
    result = shell(server, script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"count":1' in result.stdout and '"slug":"example-application"' in result.stdout
    assert '"slug":"live"' in result.stdout and '"email":"api@demo.example"' in result.stdout


def test_the_seeds_question_in_four_requests(server, tmp_path):
    result = shell(server, block_after("### Backups: the seed's question in four requests"), tmp_path)
    assert result.returncode == 0, result.stderr
    parts = json.loads(result.stdout.strip().splitlines()[-1])["results"]
    assert parts and all(part["taken_at"] and part["size"] > 0 and not part["errors"] for part in parts)


def test_the_appctl_examples(server, filled, tmp_path):
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the README runs .venv/bin/appctl
    write_a_dump(tmp_path / "dump.sql")
    lines = [line for line in block_after("`appctl` is the client").splitlines() if line.strip()]
    for line in lines:
        command = line.split("  #")[0].strip()
        if " login " in f" {command} ":
            command += f" --token {server['token']}"  # login asks for the token; a script passes it
        command = command.replace("<backup>", latest_backup(server))
        for placeholder, value in filled.items():
            command = command.replace(placeholder, value)
        result = shell(server, command, tmp_path, stdin="y\n")
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr


def write_a_dump(path: Path) -> None:
    """What the demo's database takes: plain SQL for PostgreSQL, a database file for SQLite."""
    if os.environ.get("APPCONTROL_POSTGRES_URL"):
        path.write_text("CREATE TABLE from_readme (x int);\n")
        return
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("create table from_readme (x int)")


def latest_backup(server) -> str:
    _, _, backups = get(f"{server['url']}/apps/v3/backups/?success=SUCCESS&page_size=1", server["token"])
    return backups["results"][0]["uuid"] if backups["results"] else "<backup>"


def test_the_sdk_example(server, tmp_path):
    code = README.split("```python\n", 1)[1].split("```", 1)[0]
    env = {**os.environ, "APPCTL_TOKEN": server["token"], "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code.replace("http://127.0.0.1:8000", server["url"])],
        env=env, capture_output=True, text=True, cwd=REPOSITORY,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "DATABASE DEFAULT" in result.stdout and "live" in result.stdout
