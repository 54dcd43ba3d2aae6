"""Hosted repositories (/git/): who may push and fetch, what a push may change, and what it may not run.
A real git client against a real `git http-backend`, through the server's own request handling."""

import http.client
import logging
import os
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from appcontrol.accounts.models import AccessToken, Role
from appcontrol.accounts.services import membership_set, token_create
from appcontrol.core.sandbox import Child, child_environment
from appcontrol.deployments import hosted
from tests.conftest import api_url
from tests.deployments.git_client import commit, git, head, with_credentials, work_tree

ACTORS = ["anonymous", "outsider", "restricted", "read_only", "member", "admin", "owner"]


@pytest.fixture
def server(transactional_db, live_server, settings, tmp_path):
    # Reachable by the sandbox's uid (without bubblewrap) like the data dir itself.
    settings.APPCONTROL_HOSTED_REPOSITORIES_DIR = settings.DATA_DIR / "hosted" / tmp_path.name
    return live_server.url


@pytest.fixture
def actors(server, world):
    world.add_actor("read_only", world.acme, Role.MEMBER, read_only=True)
    restricted = world.add_actor("restricted", world.acme, Role.MEMBER)
    membership_set(user=restricted, organisation=world.other, role=Role.MEMBER)
    world.tokens["restricted"] = token_create(user=restricted, name="other only", organisation=world.other)[1]
    return world


def url_of(server, organisation="acme", application="example-application"):
    return f"{server}/git/{organisation}/{application}.git"


@pytest.fixture
def pushed(server, actors, tmp_path):
    """The acme application's hosted repository with one commit on main, pushed by its owner."""
    tree = work_tree(tmp_path / "work", {"Dockerfile": "FROM scratch\n", "README": "one\n"})
    git("push", "-q", with_credentials(url_of(server), actors.tokens["owner"]), "main", cwd=tree)
    return tree


def raw_get(server, path: str, token: str | None = None):
    """A request with the path exactly as written (no client-side normalisation of `..`)."""
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {}
    if token is not None:
        import base64

        headers["Authorization"] = "Basic " + base64.b64encode(f"git:{token}".encode()).decode()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def fetch_expected(actor: str) -> str:
    return {"anonymous": "auth", "outsider": "not found", "restricted": "not found"}.get(actor, "ok")


def push_expected(actor: str) -> str:
    return {"read_only": "read-only"}.get(actor, fetch_expected(actor))


def outcome(result) -> str:
    text = result.stdout + result.stderr
    if result.returncode == 0:
        return "ok"
    if "Authentication failed" in text or "could not read Username" in text:
        return "auth"
    if "not found" in text:
        return "not found"
    if "read-only" in text and "403" in text:
        return "read-only"
    return text


@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_fetch_and_push(server, actors, pushed, tmp_path, actor):
    token = actors.tokens.get(actor)
    url = with_credentials(url_of(server), token)
    cloned = git("clone", "-q", url, str(tmp_path / "clone"), check=False)
    assert outcome(cloned) == fetch_expected(actor)
    commit(pushed, {"README": f"by {actor}\n"})
    pushing = git("push", url, "main", cwd=pushed, check=False)
    assert outcome(pushing) == push_expected(actor)
    owner = with_credentials(url_of(server), actors.tokens["owner"])
    remote = git("ls-remote", owner, "refs/heads/main", cwd=pushed).stdout.split()[0]
    assert (remote == head(pushed)) == (push_expected(actor) == "ok")


def test_no_or_wrong_credentials_get_a_basic_challenge(server, actors, pushed):
    for token in (None, "apc_" + "x" * 43, "not-a-token"):
        status, headers, _ = raw_get(
            server, "/git/acme/example-application.git/info/refs?service=git-upload-pack", token
        )
        assert status == 401
        assert headers["WWW-Authenticate"] == 'Basic realm="appcontrol"'


def test_a_revoked_or_expired_token_cannot_fetch(server, actors, pushed, tmp_path):
    url = with_credentials(url_of(server), actors.tokens["member"])
    assert git("ls-remote", url, cwd=pushed, check=False).returncode == 0
    AccessToken.objects.filter(user=actors.users["member"]).update(revoked_at=timezone.now())
    assert outcome(git("ls-remote", url, cwd=pushed, check=False)) == "auth"
    AccessToken.objects.filter(user=actors.users["admin"]).update(expires_at=timezone.now())
    expired = with_credentials(url_of(server), actors.tokens["admin"])
    assert outcome(git("ls-remote", expired, cwd=pushed, check=False)) == "auth"


def test_an_application_with_an_external_repository_has_no_hosted_one(server, actors, pushed):
    from appcontrol.applications.models import Application, Repository

    repository = Repository.objects.create(organisation=actors.acme, url="https://git.example.com/x.git")
    Application.objects.filter(pk=actors.apps["acme"].pk).update(repository=repository)
    url = with_credentials(url_of(server), actors.tokens["owner"])
    assert outcome(git("ls-remote", url, cwd=pushed, check=False)) == "not found"
    shown = actors.client("owner").get(api_url("api:application-detail", uuid=actors.apps["acme"].pk)).json()
    assert shown["git_url"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/git/../acme/example-application.git/info/refs?service=git-upload-pack",
        "/git/acme/../example-application.git/info/refs?service=git-upload-pack",
        "/git/acme/%2e%2e/example-application.git/info/refs?service=git-upload-pack",
        "/git/acme/example-application.git/../../../etc/passwd",
        "/git//etc/passwd",
        "/git/acme/example-application.git/HEAD",
        "/git/acme/example-application.git/config",
        "/git/acme/example-application.git/objects/info/packs",
        "/git/acme/{uuid}.git/info/refs?service=git-upload-pack",
        "/git/acme/other-application.git/info/refs?service=git-upload-pack",
        "/git/other/other-application.git/info/refs?service=git-upload-pack",
        "/git/other/example-application.git/info/refs?service=git-upload-pack",
    ],
)
def test_paths_outside_the_callers_applications_are_not_found(server, actors, pushed, path):
    path = path.format(uuid=actors.apps["other"].pk)
    status, _, body = raw_get(server, path, actors.tokens["owner"])
    assert status in (400, 404), (status, body[:200])
    assert b"[core]" not in body and b"root:" not in body and b"refs/heads" not in body


def test_the_dumb_protocol_serves_no_files(server, actors, pushed):
    status, _, body = raw_get(server, "/git/acme/example-application.git/info/refs", actors.tokens["owner"])
    assert status == 403 and b"refs/heads" not in body


def test_a_hook_on_the_server_never_runs(server, actors, pushed):
    """Even with the repository's own configuration pointing at a hooks directory holding hooks (as an
    operator's mistake or an old layout might leave it), a push runs none of them."""
    path = hosted.hosted_path(actors.apps["acme"])
    hooks = path / "hooks"
    hooks.mkdir()
    for name in ("pre-receive", "update", "post-receive", "post-update", "reference-transaction"):
        (hooks / name).write_text(f'#!/bin/sh\ntouch "$GIT_DIR/ran-{name}" ./ran-{name}-cwd\nexit 0\n')
        (hooks / name).chmod(0o755)
    config = path / "config"
    config.write_text(config.read_text().replace("hooksPath = /dev/null", f"hooksPath = {hooks}"))
    commit(pushed, {"README": "two\n"})
    git("push", "-q", with_credentials(url_of(server), actors.tokens["owner"]), "main", cwd=pushed)
    assert not [entry.name for entry in path.rglob("ran-*")]


def test_a_confined_git_cannot_change_the_repositorys_configuration(server, actors, pushed):
    """What a push runs sees the repository writable, except its configuration and HEAD."""
    path = hosted.hosted_path(actors.apps["acme"])
    before = (path / "config").read_text(), (path / "HEAD").read_text()
    script = 'echo "[core] hooksPath = hooks" >> config; echo "ref: refs/heads/x" > HEAD; mv config c2; true'
    with Child(["/bin/sh", "-c", f"cd {path} && {script}"], hosted.sandbox(path, writable=True),
               child_environment(), 30) as child:  # fmt: skip
        child.wait()
    assert ((path / "config").read_text(), (path / "HEAD").read_text()) == before
    # …while a push may write what it must: objects and refs.
    commit(pushed, {"README": "three\n"})
    git("push", "-q", with_credentials(url_of(server), actors.tokens["owner"]), "main", cwd=pushed)


def test_a_push_over_the_size_limit_is_refused_and_changes_nothing(server, settings, actors, pushed):
    settings.APPCONTROL_GIT_PUSH_MAX_BYTES = 200_000
    path = hosted.hosted_path(actors.apps["acme"])
    url = with_credentials(url_of(server), actors.tokens["owner"])
    before_head = git("ls-remote", url, "refs/heads/main", cwd=pushed).stdout
    before_objects = sorted(entry.relative_to(path) for entry in (path / "objects").rglob("*"))
    commit(pushed, {"random.bin": os.urandom(600_000)})
    result = git("push", url, "main", cwd=pushed, check=False)
    assert result.returncode != 0
    assert "rejected" in result.stderr or "unpack" in result.stderr, result.stderr
    assert git("ls-remote", url, "refs/heads/main", cwd=pushed).stdout == before_head
    assert sorted(entry.relative_to(path) for entry in (path / "objects").rglob("*")) == before_objects


def test_failed_basic_attempts_are_rate_limited(server, settings, actors, pushed):
    settings.APPCONTROL_RATE_LIMIT_ANONYMOUS = 5
    statuses = [
        raw_get(server, "/git/acme/example-application.git/info/refs?service=git-upload-pack", f"apc_wrong{n}")[0]
        for n in range(8)
    ]
    # git's own first request (no credentials) during the setup's push counted too.
    assert statuses[0] == 401 and statuses[-3:] == [429] * 3 and statuses.count(401) <= 5
    # The valid token's budget is its own.
    status, _, _ = raw_get(
        server, "/git/acme/example-application.git/info/refs?service=git-upload-pack", actors.tokens["owner"]
    )
    assert status == 200


def test_the_token_never_reaches_the_logs(server, actors, pushed, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    token = actors.tokens["owner"]
    for number, url in enumerate(
        [with_credentials(url_of(server), token), with_credentials(url_of(server), "", user=token)]
    ):
        commit(pushed, {"README": f"{number}\n"})
        git("push", "-q", url, "main", cwd=pushed)
    git("ls-remote", with_credentials(url_of(server), token[:-2] + "xx"), cwd=pushed, check=False)
    git("push", with_credentials(url_of(server), actors.tokens["read_only"]), "main", cwd=pushed, check=False)
    assert caplog.records
    assert token not in caplog.text and token[4:] not in caplog.text
    assert actors.tokens["read_only"] not in caplog.text


def raw_post(server, path: str, token: str, body: bytes, **headers):
    import base64

    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers["Authorization"] = "Basic " + base64.b64encode(f"git:{token}".encode()).decode()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def pkt_line(text: bytes) -> bytes:
    return b"%04x" % (len(text) + 4) + text


def test_a_compressed_push_is_refused(server, actors, pushed):
    """git never compresses a push; a gzip body would be unpacked by git without bound (a small request
    asking for gigabytes of memory)."""
    import gzip

    path = urlsplit(url_of(server)).path + "/git-receive-pack"
    body = gzip.compress(pkt_line(b"0" * 40 + b" " + b"1" * 40 + b" refs/heads/x\n") * 1000 + b"0000")
    status, answer = raw_post(
        server, path, actors.tokens["owner"], body,
        **{"Content-Type": "application/x-git-receive-pack-request", "Content-Encoding": "gzip"},
    )  # fmt: skip
    assert status == 415 and b"uncompressed" in answer


def test_a_push_naming_too_many_refs_is_cut_off(server, actors, pushed):
    """Ref-update commands are read before the pack, beyond receive.maxInputSize: bounded here."""
    before = hosted.refs(hosted.hosted_path(actors.apps["acme"]))
    zero, commit_id = b"0" * 40, head(pushed).encode()
    commands = pkt_line(b"%s %s refs/heads/first\0report-status\n" % (zero, commit_id)) + b"".join(
        pkt_line(b"%s %s refs/heads/b%07d\n" % (zero, commit_id, n)) for n in range(20_000)
    )
    path = urlsplit(url_of(server)).path + "/git-receive-pack"
    status, answer = raw_post(
        server, path, actors.tokens["owner"], commands + b"0000",
        **{"Content-Type": "application/x-git-receive-pack-request"},
    )  # fmt: skip
    assert len(commands) > 1024 * 1024
    # Cut off before git read them all: no report on any of the refs (git would answer "ng" for each).
    assert b"refs/heads/" not in answer, (status, answer[:300])
    assert hosted.refs(hosted.hosted_path(actors.apps["acme"])) == before


def test_a_gzip_fetch_request_is_unpacked_within_a_bound(server, actors, pushed):
    import gzip

    from appcontrol.deployments import git_body

    bomb = gzip.compress(b"0" * (git_body.FETCH_REQUEST_MAX_BYTES + 1))
    assert len(bomb) < git_body.FETCH_REQUEST_MAX_BYTES // 100
    with pytest.raises(git_body.BodyRefused, match="unpacks to more than"):
        unpack = git_body.Gunzip()
        for start in range(0, len(bomb), 65536):
            unpack.feed(bomb[start : start + 65536])
    path = urlsplit(url_of(server)).path + "/git-upload-pack"
    status, answer = raw_post(
        server, path, actors.tokens["read_only"], bomb,
        **{"Content-Type": "application/x-git-upload-pack-request", "Content-Encoding": "gzip"},
    )  # fmt: skip
    assert b"PACK" not in answer  # cut off: git answers nothing useful, and used no more memory than the bound
    # A real client's gzip fetch works: git compresses its upload-pack requests when they are large.
    clone = git("clone", "-q", with_credentials(url_of(server), actors.tokens["read_only"]), "clone", cwd=pushed.parent)
    assert clone.returncode == 0


def test_push_commands_are_counted_across_chunks():
    from appcontrol.deployments import git_body

    counter = git_body.PushCommands(limit=100)
    stream = pkt_line(b"a" * 40) + pkt_line(b"b" * 40) + b"0000" + b"PACK" + b"x" * 1000
    for index in range(0, len(stream), 7):
        counter.feed(stream[index : index + 7])
    assert counter.done and counter.seen == 4 + 44 + 44
    with pytest.raises(git_body.BodyRefused):
        git_body.PushCommands(limit=100).feed(pkt_line(b"c" * 200))
