"""End to end: the README's run path on the embedded default, with a real server process."""

import signal
import subprocess
import urllib.error
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


def test_serve_runs_the_router_and_the_reconciler_loads_its_routes(server):
    """With Caddy installed (`make test` installs it), `serve` starts it on APPCONTROL_ROUTER_BIND and the
    reconciler loads the routes: an unknown host gets the router's own 404."""
    from appcontrol.runtime.caddy import NOT_FOUND_BODY

    from .conftest import wait_for

    router = server["env"]["APPCONTROL_ROUTER_BIND"]

    def answer():
        request = urllib.request.Request(f"http://{router}/", headers={"Host": "nobody.localhost"})
        try:
            urllib.request.urlopen(request, timeout=2)  # noqa: S310 - loopback
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return None

    assert wait_for(answer, timeout=30) == (404, NOT_FOUND_BODY)
    assert (server["data_dir"] / "router" / "admin.sock").is_socket()


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
