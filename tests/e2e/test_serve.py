"""End to end: the README's run path on the embedded default, with a real server process."""

import signal
import subprocess
import urllib.request
from pathlib import Path

from .conftest import get


def test_seed_requests_work_with_curl_semantics(server):
    url, token = server["url"], server["token"]
    status, _, root = get(f"{url}/apps/v3/")
    assert status == 200 and root["applications"] == f"{url}/apps/v3/applications/"
    status, headers, body = get(f"{url}/apps/v3/applications/")
    assert status == 401 and headers["WWW-Authenticate"] == "Token"
    status, _, body = get(f"{url}/apps/v3/applications/?slug=example-application", token)
    assert status == 200 and body["count"] == 1
    app_uuid = body["results"][0]["uuid"]
    status, _, body = get(f"{url}/apps/v3/environments/?application={app_uuid}", token)
    assert sorted(env["slug"] for env in body["results"]) == ["live", "test"]


def test_docs_and_static_assets_are_served_without_a_cdn(server):
    with urllib.request.urlopen(f"{server['url']}/apps/v3/docs/", timeout=10) as response:  # noqa: S310
        html = response.read().decode()
    asset = html.split('src="')[1].split('"')[0]
    with urllib.request.urlopen(f"{server['url']}{asset}", timeout=10) as response:  # noqa: S310
        assert response.status == 200 and len(response.read()) > 1000


def test_no_token_in_clear_in_the_data_dir(server):
    get(f"{server['url']}/apps/v3/applications/", server["token"])
    for path in server["data_dir"].rglob("*"):
        if path.is_file():
            assert server["token"].encode() not in path.read_bytes(), path


def test_nothing_is_left_in_the_home_directory(server):
    """gunicorn would put a control socket in ~/.gunicorn; `serve` turns it off."""
    assert not list(Path(server["env"]["HOME"]).iterdir())


def test_long_filtered_urls_are_served(server):
    """Up to gunicorn's longest request line (8190 bytes), not its default 4094."""
    status, _, body = get(f"{server['url']}/apps/v3/applications/?slug={'a' * 6000}", server["token"])
    assert status == 200 and body["count"] == 0


def test_worker_runs_beside_the_web_server_and_both_stop_on_sigterm(server):
    process = server["process"]
    children = subprocess.run(["pgrep", "-P", str(process.pid), "-a"], capture_output=True, text=True).stdout
    assert "gunicorn" in children and "db_worker" in children
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert server["token"] not in server["log"].read_text()  # nothing secret in the logs
    assert subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True).returncode == 1
