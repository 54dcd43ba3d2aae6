"""Rate limits counted across several server processes, and a POST retried after its connection dropped,
against real servers."""

import http.client
import json
import re
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import get, running_server, server_shell, wait_for
from tests.redis_service import require_redis


@pytest.mark.parametrize("store", ["database", "redis"])
def test_the_limit_holds_across_server_processes(store, tmp_path):
    extra = {"APPCONTROL_RATE_LIMIT": "20"}
    if store == "redis":
        import redis

        extra["APPCONTROL_REDIS_URL"] = require_redis()
        redis.Redis.from_url(extra["APPCONTROL_REDIS_URL"]).flushdb()
    with running_server(tmp_path, workers=3, **extra) as server:
        url = f"{server['url']}/apps/v3/applications/?slug=example-application"
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda _: get(url, server["token"]), range(36)))
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [200] * 20 + [429] * 16
        pids = set(re.findall(r"Booting worker with pid: (\d+)", server["log"].read_text()))
        assert len(pids) == 3, "the server should have run three processes"
        refused = next(body for status, _, body in answers if status == 429)
        assert "20 requests a minute" in refused["detail"]


def test_a_post_whose_connection_dropped_is_retried_with_its_key_and_happens_once(server):
    environment = server_shell(
        server,
        "from appcontrol.applications.models import Environment\n"
        "print(Environment.objects.get(application__slug='example-application', slug='test').pk.hex)",
    )
    count = "from appcontrol.backups.models import Backup\nprint(Backup.objects.count())"
    before = int(server_shell(server, count))
    key = str(uuid.uuid4())
    body = json.dumps({"environment": environment}).encode()
    parts = urlsplit(server["url"])
    # Send the whole request, then hang up without reading the answer: the client cannot know if it worked.
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            b"POST /apps/v3/backups/ HTTP/1.1\r\n"
            + f"Host: {parts.netloc}\r\nAuthorization: Token {server['token']}\r\n".encode()
            + f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    wait_for(lambda: int(server_shell(server, count)) == before + 1, timeout=20)

    def retry():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {
            "Authorization": f"Token {server['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        connection.request("POST", "/apps/v3/backups/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.headers), json.loads(response.read())

    status, headers, answer = wait_for(lambda: (r := retry())[0] == 201 and r, timeout=20)
    assert headers["Idempotent-Replayed"] == "true"
    assert int(server_shell(server, count)) == before + 1
    status, _, listed = get(f"{server['url']}/apps/v3/backups/?environment={environment}", server["token"])
    assert answer["uuid"] in {backup["uuid"] for backup in listed["results"]}
