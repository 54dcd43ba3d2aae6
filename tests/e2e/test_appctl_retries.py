"""appctl's retries against a scripted HTTP server: POSTs keep their Idempotency-Key across tries,
`Retry-After` is honoured (and a long one reported, not waited for), and reads resend their ETag."""

import http.server
import json
import threading

import appctl
import pytest


class Script(http.server.BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers, body) of the server's script."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path, self.headers))  # names compare case-insensitively
        status, headers, body = self.server.script.pop(0)
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Script)
    server.script, server.seen = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def slept(monkeypatch):
    waits = []
    monkeypatch.setattr("appctl.transport.time.sleep", waits.append)
    return waits


def client_of(server):
    return appctl.Client(f"http://127.0.0.1:{server.server_address[1]}", token="apc_test")


def test_a_post_is_retried_with_the_same_idempotency_key(scripted, slept):
    scripted.script = [(503, {}, {"detail": "busy"}), (201, {}, {"uuid": "b1", "slug": "a", "name": "A"})]
    with client_of(scripted) as client:
        assert client.request("POST", "/apps/v3/applications/", json={"slug": "a"})["uuid"] == "b1"
    keys = [headers["Idempotency-Key"] for _, _, headers in scripted.seen]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
    assert len(slept) == 1


def test_each_post_has_its_own_key(scripted, slept):
    scripted.script = [(201, {}, {"uuid": "1"}), (201, {}, {"uuid": "2"})]
    with client_of(scripted) as client:
        client.request("POST", "/apps/v3/backups/", json={})
        client.request("POST", "/apps/v3/backups/", json={})
    first, second = (headers["Idempotency-Key"] for _, _, headers in scripted.seen)
    assert first != second


def test_retry_after_is_honoured_and_a_running_first_try_is_waited_for(scripted, slept):
    scripted.script = [
        (429, {"Retry-After": "3"}, {"detail": "slow down"}),
        (409, {"Retry-After": "1"}, {"detail": "still running"}),
        (201, {}, {"uuid": "b1"}),
    ]
    with client_of(scripted) as client:
        assert client.request("POST", "/apps/v3/backups/", json={})["uuid"] == "b1"
    assert slept == [3.0, 1.0]


def test_a_long_retry_after_is_reported_not_waited_for(scripted, slept):
    scripted.script = [(429, {"Retry-After": "600"}, {"detail": "Rate limit exceeded."})]
    with client_of(scripted) as client, pytest.raises(appctl.RateLimited) as raised:
        client.get("/apps/v3/applications/")
    assert raised.value.retry_after == 600 and slept == []


def test_a_conflict_without_retry_after_is_not_retried(scripted, slept):
    scripted.script = [(409, {}, {"detail": "has service instances"})]
    with client_of(scripted) as client, pytest.raises(appctl.Conflict):
        client.request("POST", "/apps/v3/backups/", json={})
    assert len(scripted.seen) == 1


def test_reads_resend_their_etag_and_reuse_the_body_on_304(scripted, slept):
    body = {"uuid": "b1", "state": "WORKING"}
    scripted.script = [(200, {"ETag": '"v1"'}, body), (304, {"ETag": '"v1"'}, None)]
    with client_of(scripted) as client:
        assert client.get("/apps/v3/backups/b1/") == body
        assert client.get("/apps/v3/backups/b1/") == body
    assert "If-None-Match" not in scripted.seen[0][2]
    assert scripted.seen[1][2]["If-None-Match"] == '"v1"'
