"""The appctl client against a real server: every page, errors as exceptions, no Django."""

import json
import subprocess
import sys

import appctl
import pytest


def test_appctl_imports_without_django():
    code = "import sys, appctl, appctl.cli; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_client_reads_the_seed_chain(server):
    with appctl.Client(server["url"], token=server["token"]) as client:
        app = client.get("/apps/v3/applications/", slug="example-application")["results"][0]
        envs = list(client.paginate("/apps/v3/environments/", application=app["uuid"], page_size=1))
    assert sorted(env["slug"] for env in envs) == ["live", "test"]


def test_client_pagination_follows_next_and_honours_limit(server):
    with appctl.Client(server["url"], token=server["token"]) as client:
        assert len(list(client.paginate("/apps/v3/environments/", page_size=1, limit=1))) == 1


def test_client_errors_are_typed(server):
    with (
        appctl.Client(server["url"], token="apc_wrong-token-000000000000") as client,
        pytest.raises(appctl.Unauthorized) as error,
    ):
        client.get("/apps/v3/applications/")
    assert error.value.status == 401 and error.value.detail == "Invalid token."


def test_cli_api_command_merges_pages(server):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "appctl",
            "--url",
            server["url"],
            "api",
            "GET",
            "/apps/v3/environments/",
            "--paginate",
            "-f",
            "page_size=1",
        ],
        env={"APPCTL_TOKEN": server["token"], "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(env["slug"] for env in json.loads(result.stdout)) == ["live", "test"]


def test_cli_shows_the_servers_message_not_a_traceback(server):
    result = subprocess.run(
        [sys.executable, "-m", "appctl", "--url", server["url"], "api", "GET", "/apps/v3/applications/"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "401" in result.stderr and "Traceback" not in result.stderr
