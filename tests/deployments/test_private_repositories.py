"""Private repositories through the API against real git servers: a loopback sshd (deploy keys) and
`git http-backend` behind Basic authentication (user and password or token)."""

import pytest

from appcontrol.applications.models import Repository
from appcontrol.core import secret_box
from appcontrol.core.ids import decode_id, encode_id
from appcontrol.deployments import git
from tests.conftest import api_url

KEY_PREFIXES = {"ED25519": "ssh-ed25519 ", "ECDSA": "ecdsa-sha2-nistp256 ", "RSA": "ssh-rsa "}


@pytest.fixture
def operator(world):
    """Operators (superusers) may reach loopback hosts, where the test servers listen."""
    world.users["member"].is_superuser = True
    world.users["member"].save()
    return world.client("member")


def create(world, client, run_jobs, **fields):
    with run_jobs():
        response = client.post(
            api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), **fields}, format="json"
        )
    assert response.status_code == 201, response.json()
    return response.json()


def shown(client, uuid):
    return client.get(api_url("api:repository-detail", uuid=uuid)).json()


def check(client, run_jobs, uuid, **body):
    with run_jobs():
        return client.post(api_url("api:repository-check", uuid=uuid), body, format="json")


def test_an_ssh_repository_works_once_its_deploy_key_is_added_at_the_host(world, operator, run_jobs, sshd):
    created = create(world, operator, run_jobs, url=sshd.url)
    assert created["state"] == "CLONING" and created["key_type"] == "ED25519"
    public_key = created["auth_info"]
    assert public_key.startswith("ssh-ed25519 ") and "\n" not in public_key
    assert public_key.endswith(f" appcontrol-repository-{created['uuid']}")
    # The first clone ran before the key was at the host.
    first = shown(operator, created["uuid"])
    assert first["state"] == "INVALID" and "add the deploy key" in first["reason"], first["reason"]
    refused = check(operator, run_jobs, created["uuid"], branch="main")
    assert refused.status_code == 400 and refused.json()["code"] == "authentication", refused.json()
    assert refused.json()["non_field_errors"][0].startswith("The git host refused the credentials")

    sshd.authorize(public_key)
    answer = check(operator, run_jobs, created["uuid"], branch="main", migrate="true")
    assert answer.status_code == 200 and answer.json() == {"code": "success"}
    assert shown(operator, created["uuid"])["state"] == "CLONED"  # cloned again after the successful check
    missing = check(operator, run_jobs, created["uuid"], branch="nope")
    assert missing.status_code == 400 and missing.json()["code"] == "branch_missing", missing.json()

    repository = Repository.objects.get(pk=decode_id(created["uuid"]))
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519 " in repository.known_hosts
    git.fetch(repository)  # what a deployment does before it builds
    assert len(git.resolve(repository, "main")) == 40


def test_a_changed_host_key_is_refused(world, operator, run_jobs, sshd):
    created = create(world, operator, run_jobs, url=sshd.url)
    sshd.authorize(created["auth_info"])
    assert check(operator, run_jobs, created["uuid"], branch="main").status_code == 200
    sshd.stop()
    sshd.new_host_key()
    sshd.start()
    answer = check(operator, run_jobs, created["uuid"], branch="main")
    assert answer.status_code == 400 and answer.json()["code"] == "host_key", answer.json()
    assert "not the one seen" in answer.json()["non_field_errors"][0]
    repository = Repository.objects.get(pk=decode_id(created["uuid"]))
    with pytest.raises(git.GitError, match="not the one seen") as failure:
        git.fetch(repository)
    assert failure.value.code == "host_key"


@pytest.mark.parametrize("key_type", ["ECDSA", "RSA"])
def test_other_key_types(world, operator, run_jobs, sshd, key_type):
    created = create(world, operator, run_jobs, url=sshd.url, key_type=key_type)
    assert created["key_type"] == key_type and created["auth_info"].startswith(KEY_PREFIXES[key_type])
    sshd.authorize(created["auth_info"])
    assert check(operator, run_jobs, created["uuid"], branch="main").json() == {"code": "success"}


def test_an_https_repository_with_a_password(world, operator, run_jobs, git_http_server):
    created = create(
        world, operator, run_jobs, url=git_http_server.url, username="deployer", password="s3cret-token-Zq9"
    )
    assert "password" not in created and created["username"] == "deployer" and created["auth_info"] is None
    assert shown(operator, created["uuid"])["state"] == "CLONED", shown(operator, created["uuid"])["reason"]
    assert check(operator, run_jobs, created["uuid"], branch="main").json() == {"code": "success"}

    wrong = create(world, operator, run_jobs, url=git_http_server.url, username="deployer", password="wrong")
    failed = shown(operator, wrong["uuid"])
    assert failed["state"] == "INVALID" and "refused the credentials" in failed["reason"], failed["reason"]
    answer = check(operator, run_jobs, wrong["uuid"], branch="main")
    assert answer.status_code == 400 and answer.json()["code"] == "authentication", answer.json()
    without = create(world, operator, run_jobs, url=git_http_server.url)
    assert shown(operator, without["uuid"])["state"] == "INVALID"


@pytest.fixture
def queued(monkeypatch):
    """The jobs the repository services queue (by runner name)."""
    names = []
    monkeypatch.setattr("appcontrol.deployments.services.enqueue", lambda name, pk: names.append(name))
    return names


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ssh://git@git.example.com/a.git", "password": "x", "username": "u"}, "username"),
        ({"url": "git@git.example.com:a.git", "password": "x"}, "password"),
        ({"url": "https://git.example.com/a.git", "key_type": "RSA"}, "key_type"),
        ({"url": "https://git.example.com/a.git", "username": "u"}, "password"),
        ({"url": "https://git.example.com/a.git", "password": "p"}, "username"),
        ({"url": "git://git.example.com/a.git", "username": "u", "password": "p"}, "password"),
        ({"url": "https://git.example.com/a.git", "username": "u", "password": "p\nusername=x"}, "password"),
        ({"url": "ssh://git@git.example.com/a.git", "key_type": "DSA"}, "key_type"),
        ({"url": "ssh://git@git.example.com:99999/a.git"}, "url"),
        ({"url": "ssh://git.example.com/a.git"}, "url"),
        ({"url": "ssh://git:pw@git.example.com/a.git"}, "url"),
        ({"url": "https://u:p@git.example.com/a.git"}, "url"),
    ],
)
def test_credentials_that_do_not_fit_the_url_are_refused(world, queued, fields, field):
    response = world.client("member").post(
        api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), **fields}, format="json"
    )
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Repository.objects.exists() and queued == []


def test_ssh_urls_members_may_use(world, queued):
    for url in ["ssh://git@github.com/owner/repo.git", "git@github.com:owner/repo.git", "ssh://git@gitlab.com:2222/a"]:
        queued.clear()
        response = world.client("member").post(
            api_url("api:repository-list"), {"organisation": encode_id(world.acme.pk), "url": url}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["auth_info"].startswith("ssh-ed25519 ") and queued == ["repository-clone"]


@pytest.mark.parametrize(
    ("url", "errors"),
    [("https://git.example.com/a.git", False), ("ftp://git.example.com/a.git", True), ("git@127.0.0.1:x", True)],
)
def test_a_url_alone_is_validated_without_creating_anything(world, queued, url, errors):
    """divio-cli's validator posts `{url}` alone and reads `errors["url"]`."""
    response = world.client("member").post(api_url("api:repository-list"), {"url": url}, format="json")
    assert response.status_code == 400
    assert ("url" in response.json()) is errors, response.json()
    assert not Repository.objects.exists() and queued == []


def test_check_of_another_organisation_s_repository_is_not_found(world):
    foreign = Repository.objects.create(organisation=world.other, url="https://git.example.com/b.git")
    response = world.client("member").post(api_url("api:repository-check", uuid=foreign.pk), {}, format="json")
    assert response.status_code == 404


def test_secrets_rotate_the_first_key_encrypts_every_key_decrypts(settings):
    settings.APPCONTROL_SECRETS_KEY = ["old key"]
    token = secret_box.encrypt("the secret")
    settings.APPCONTROL_SECRETS_KEY = ["new key", "old key"]
    assert secret_box.decrypt(token) == "the secret"
    fresh = secret_box.encrypt("the secret")
    settings.APPCONTROL_SECRETS_KEY = ["new key"]
    assert secret_box.decrypt(fresh) == "the secret"
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.decrypt(token)


def test_ssh_works_for_a_sandbox_uid_without_a_name(world, operator, run_jobs, sshd, settings):
    """ssh will not run for a uid without a passwd entry: bubblewrap gets a one-line /etc/passwd; the fallback
    (which sees the host's) says what is missing."""
    from appcontrol.core.sandbox import bubblewrap, drops_privileges

    settings.APPCONTROL_SANDBOX_UID = 12345  # no entry in /etc/passwd, and none nss-systemd makes up
    created = create(world, operator, run_jobs, url=sshd.url)
    sshd.authorize(created["auth_info"])
    answer = check(operator, run_jobs, created["uuid"], branch="main")
    if bubblewrap() is not None or not drops_privileges():
        assert answer.json() == {"code": "success"}, answer.json()
    else:
        assert "ssh needs a user name for APPCONTROL_SANDBOX_UID=12345" in answer.json()["non_field_errors"][0]
