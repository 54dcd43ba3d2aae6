"""The official divio-cli, unchanged, against appcontrol: pull db, push db, service-instances list.

divio-cli 4.0.5 (PyPI) runs `pull db` and `push db` only inside a local Docker project; the project
here is a folder with `.divio/config.json` and a compose file, and `docker` is a stand-in script
(tests/e2e/divio_cli_shims). Every HTTP call divio-cli makes goes to the real server.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from .conftest import divio_cli, get

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
    if not os.environ.get("APPCONTROL_POSTGRES_URL"):
        if os.environ.get("APPCONTROL_REQUIRE_POSTGRES") == "1":
            pytest.fail("divio-cli's push db needs PostgreSQL service instances: set APPCONTROL_POSTGRES_URL")
        pytest.skip("divio-cli's push db needs PostgreSQL service instances (APPCONTROL_POSTGRES_URL)")
    return divio_cli(server, tmp_path_factory, compose=COMPOSE)


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


def test_env_vars_list_and_get(server, divio):
    _, _, envs = get(f"{server['url']}/apps/v3/environments/?application={divio['app']}&slug=test", server["token"])
    environment = envs["results"][0]["uuid"]
    for name, value, sensitive in [("SHOWN_VALUE", "visible-123", False), ("HIDDEN_VALUE", "write-only-456", True)]:
        status, _, _ = get(
            f"{server['url']}/apps/v3/environment-variables/",
            server["token"],
            method="POST",
            body={"environment": environment, "name": name, "value": value, "is_sensitive": sensitive},
        )
        assert status == 201
    listed = divio["run"]("app", "env-vars", "list")
    assert "SHOWN_VALUE" in listed and "visible-123" in listed and "HIDDEN_VALUE" in listed
    assert "write-only-456" not in listed
    one = divio["run"]("app", "env-vars", "--json", "get", "SHOWN_VALUE")
    assert "visible-123" in one and "HIDDEN_VALUE" not in one
