"""Deploy keys and git passwords: they reach the git host and nothing else. Each test fails if its defence
(encryption at rest, write-only fields, credentials outside the command line, the key file's removal, the
loopback rule for members) went away."""

import logging

import pytest
from django.db import connection

from appcontrol.applications.models import Repository
from appcontrol.core import sandbox
from appcontrol.core.ids import decode_id, encode_id
from appcontrol.deployments import git, git_access
from tests.conftest import api_url

PASSWORD = "s3cret-token-Zq9"


@pytest.fixture
def operator(world):
    world.users["member"].is_superuser = True
    world.users["member"].save()
    return world.client("member")


@pytest.fixture
def argv_seen(monkeypatch):
    """Every command line a confined child is started with."""
    seen: list[list[str]] = []
    original = sandbox.confined_argv

    def spy(argv, box):
        seen.append(list(argv))
        return original(argv, box)

    monkeypatch.setattr(sandbox, "confined_argv", spy)
    return seen


def everything_said(world, client, run_jobs, uuids, caplog) -> str:
    """Every API answer about the repositories (detail, list, failed checks), their job logs and reasons,
    the captured log output and the raw database rows."""
    said = [client.get(api_url("api:repository-list")).content.decode()]
    for uuid in uuids:
        said.append(client.get(api_url("api:repository-detail", uuid=uuid)).content.decode())
        with run_jobs():
            said.append(client.post(api_url("api:repository-check", uuid=uuid), {"branch": "gone"}).content.decode())
        repository = Repository.objects.get(pk=decode_id(uuid))
        said += [*repository.log, repository.reason]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Repository._meta.db_table}")  # noqa: S608 - our own table name
        said += [repr(row) for row in cursor.fetchall()]
    return "\n".join([*said, caplog.text])


def test_the_private_key_and_password_are_never_shown_logged_or_stored_in_clear(
    world, operator, run_jobs, sshd, git_http_server, caplog
):
    caplog.set_level(logging.DEBUG)
    answers = []
    with run_jobs():
        for body in (
            {"url": sshd.url},
            {"url": git_http_server.url, "username": "deployer", "password": PASSWORD},
            {"url": git_http_server.url, "username": "deployer", "password": PASSWORD + "-wrong"},
        ):
            response = operator.post(
                api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), **body}, format="json"
            )
            assert response.status_code == 201
            answers.append(response)
    uuids = [answer.json()["uuid"] for answer in answers]
    private_key = Repository.objects.get(pk=decode_id(uuids[0])).private_key
    assert private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    key_body = "".join(private_key.splitlines()[1:-1])
    said = "\n".join(answer.content.decode() for answer in answers) + everything_said(
        world, operator, run_jobs, uuids, caplog
    )
    assert "refused the credentials" in said  # the failures were there to be read
    for secret in (PASSWORD, key_body[:40], key_body[-40:]):
        assert secret not in said


def test_the_password_is_never_on_a_command_line(world, operator, run_jobs, git_http_server, argv_seen):
    with run_jobs():
        created = operator.post(
            api_url("api:repository-list"),
            {"organisation": encode_id(world.acme.pk), "url": git_http_server.url, "username": "deployer",
             "password": PASSWORD},
            format="json",
        ).json()  # fmt: skip
    assert operator.get(api_url("api:repository-detail", uuid=created["uuid"])).json()["state"] == "CLONED"
    assert any("clone" in argv for argv in argv_seen)
    assert not [argv for argv in argv_seen if any(PASSWORD in word for word in argv)]


def test_the_key_file_is_private_and_removed_after_use(world, operator, run_jobs, sshd, monkeypatch):
    directories, modes = [], []
    original = git_access.private_directory

    def recording():
        context = original()
        directory = context.__enter__()
        directories.append(directory)

        class Wrapper:
            def __enter__(self):
                return directory

            def __exit__(self, *exc_info):
                modes.append((directory / "key").stat().st_mode & 0o777)
                return context.__exit__(*exc_info)

        return Wrapper()

    monkeypatch.setattr(git_access, "private_directory", recording)
    with run_jobs():
        created = operator.post(
            api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": sshd.url}, format="json"
        ).json()
    sshd.authorize(created["auth_info"])
    repository = Repository.objects.get(pk=decode_id(created["uuid"]))
    git.check(repository, "main")
    assert len(directories) == 2 and modes == [0o600, 0o600]
    assert not [directory for directory in directories if directory.exists()]


@pytest.mark.parametrize(
    "url",
    [
        "ssh://git@127.0.0.1/repo.git",
        "git@127.0.0.1:repo.git",
        "git@localhost:repo.git",
        "ssh://git@[::1]:2222/repo.git",
        "git@[::1]:repo.git",
        "git@10.0.0.7:repo.git",
        "ssh://git@169.254.169.254/x",
    ],
)
def test_a_member_s_ssh_url_cannot_reach_the_server_s_own_network(world, url):
    response = world.client("member").post(
        api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": url}, format="json"
    )
    assert response.status_code == 400 and "own network" in response.json()["url"][0], response.json()
    assert not Repository.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["-oProxyCommand@git.example.com:repo.git", "ssh://-oProxyCommand=touch/repo.git", "ssh://git@-oProxyCommand/x"],
)
def test_an_ssh_url_cannot_smuggle_an_option_to_ssh(world, url):
    response = world.client("member").post(
        api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": url}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json(), response.json()
