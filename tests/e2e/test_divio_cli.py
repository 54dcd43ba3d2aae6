"""The official divio-cli, unchanged, against appcontrol: pull db, push db, service-instances list.

divio-cli 4.0.5 (PyPI) runs `pull db` and `push db` only inside a local Docker project; the project
here is a folder with `.divio/config.json` and a compose file, and `docker` is a stand-in script
(tests/e2e/divio_cli_shims). Every HTTP call divio-cli makes goes to the real server.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from .conftest import get

REPO = Path(__file__).resolve().parents[2]
SHIMS = Path(__file__).with_name("divio_cli_shims")
COMPOSE = """services:
  web:
    image: example
  database_default:
    image: postgres:15
    environment:
      SERVICE_MANAGER: fsm-postgres
"""


@pytest.fixture(scope="module")
def divio(server, tmp_path_factory):
    binary = Path(os.environ.get("DIVIO_CLI", REPO / ".venv-divio" / "bin" / "divio"))
    if not binary.exists():
        if os.environ.get("CI"):
            pytest.fail(f"divio-cli is not installed at {binary} (make test installs it)")
        pytest.skip("divio-cli is not installed; `make test` installs it into .venv-divio")
    if not os.environ.get("APPCONTROL_POSTGRES_URL"):
        if os.environ.get("APPCONTROL_REQUIRE_POSTGRES") == "1":
            pytest.fail("divio-cli's push db needs PostgreSQL service instances: set APPCONTROL_POSTGRES_URL")
        pytest.skip("divio-cli's push db needs PostgreSQL service instances (APPCONTROL_POSTGRES_URL)")
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
    (project / "docker-compose.yml").write_text(COMPOSE)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": f"{SHIMS}:{os.environ['PATH']}",
        "LANG": "C.UTF-8",
    }

    def run(*args, cwd=project):
        result = subprocess.run(
            [str(binary), "-z", server["url"], *args, "--remote-id", app],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    return {"run": run, "project": project, "app": app}


def api(server, path):
    return get(f"{server['url']}{path}", server["token"])[2]


def test_service_instances_list(server, divio):
    output = divio["run"]("app", "service-instances", "list", "live")
    _, _, envs = get(f"{server['url']}/apps/v3/environments/?application={divio['app']}&slug=live", server["token"])
    instances = api(server, f"/apps/v3/service-instances/?environment={envs['results'][0]['uuid']}")
    assert instances["count"] == 2
    for instance in instances["results"]:
        assert instance["uuid"] in output
    assert "DATABASE" in output and "STORAGE" in output and "ATTACHED" in output


def test_pull_db_downloads_the_backup_it_asked_for(server, divio):
    divio["run"]("app", "pull", "db", "live", "--keep-tempfile")
    dump = divio["project"] / ".divio" / "data.dump"
    backups = api(server, "/apps/v3/backups/?trigger=MANUAL")
    backup = backups["results"][0]
    assert backup["notes"] == "Divio CLI pull" and backup["success"] == "SUCCESS"
    part = api(server, f"/apps/v3/service-instance-backups/{backup['service_instance_backups'][0]}/")
    assert hashlib.sha256(dump.read_bytes()).hexdigest() == part["sha256"]
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True)
    assert "TABLE public notes" in listing.stdout


def test_push_db_restores_into_test_and_keeps_the_users_file(server, divio, tmp_path):
    dumpfile = tmp_path / "push.sql"
    content = "-- PostgreSQL database dump\nCREATE TABLE pushed (x int);\nINSERT INTO pushed VALUES (42);\n"
    dumpfile.write_text(content)
    divio["run"]("app", "push", "db", "test", "--dumpfile", str(dumpfile), "--noinput")
    assert dumpfile.read_text() == content
    restores = api(server, "/apps/v3/backup-restores/")
    assert restores["results"][0]["success"] == "SUCCESS"
    url = subprocess.run(
        [
            sys.executable, "-m", "appcontrol", "shell", "-c",
            "from appcontrol.applications.models import EnvironmentVariable as V;"
            "print(V.objects.get(name='DATABASE_URL', environment__slug='test').value)",
        ],
        env=server["env"], capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    with psycopg.connect(url) as conn:
        assert conn.execute("select x from pushed").fetchall() == [(42,)]
