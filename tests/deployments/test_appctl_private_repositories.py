"""`appctl repos add --ssh-key`, `--username --password-stdin` and `repos check` against a live server and the
real git servers."""

import json

import pytest
from appctl.cli.main import app
from typer.testing import CliRunner

from appcontrol.applications.models import Repository
from appcontrol.core.ids import encode_id


@pytest.fixture
def appctl(world, live_server, monkeypatch):
    world.users["member"].is_superuser = True  # the git servers listen on loopback
    world.users["member"].save()
    monkeypatch.setenv("APPCTL_URL", live_server.url)
    monkeypatch.setenv("APPCTL_TOKEN", world.tokens["member"])
    runner = CliRunner()
    return lambda *args, stdin=None: runner.invoke(app, list(args), input=stdin)


@pytest.mark.django_db(transaction=True)
def test_repos_add_with_a_deploy_key_then_check(world, appctl, sshd):
    added = appctl("repos", "add", sshd.url, "--organisation", encode_id(world.acme.pk), "--ssh-key")
    assert added.exit_code == 0, added.output
    public_key = next(line for line in added.stdout.splitlines() if line.startswith("ssh-ed25519 "))
    uuid = encode_id(Repository.objects.get().pk)
    refused = appctl("repos", "check", uuid, "--branch", "main")
    assert refused.exit_code == 1 and "authentication" in refused.output
    sshd.authorize(public_key)
    assert appctl("repos", "check", uuid, "--branch", "main").exit_code == 0
    shown = appctl("--json", "repos", "show", uuid)
    assert json.loads(shown.stdout)["state"] == "CLONED", shown.output
    missing = appctl("repos", "check", uuid, "--branch", "nope")
    assert missing.exit_code == 1 and "branch_missing" in missing.output


@pytest.mark.django_db(transaction=True)
def test_repos_add_with_a_password_from_stdin(world, appctl, git_http_server):
    added = appctl(
        "--json", "repos", "add", git_http_server.url, "--organisation", encode_id(world.acme.pk),
        "--username", "deployer", "--password-stdin", stdin="s3cret-token-Zq9\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["state"] == "CLONED"
    assert "s3cret-token-Zq9" not in added.output
