"""The seed's chain end to end against a real server process with its real worker and scheduler."""

import os
import signal
import subprocess
from pathlib import Path

from .conftest import get, wait_for


def api(server, path, method="GET", body=None):
    status, _, payload = get(f"{server['url']}{path}", server["token"], method=method, body=body)
    return status, payload


def test_seed_chain_with_a_real_backup(server):
    status, apps = api(server, "/apps/v3/applications/?slug=example-application")
    app = apps["results"][0]["uuid"]
    _, envs = api(server, f"/apps/v3/environments/?application={app}&slug=live")
    env = envs["results"][0]["uuid"]
    status, created = api(server, "/apps/v3/backups/", "POST", {"environment": env, "notes": "e2e"})
    assert status == 201 and created["state"] == "WORKING"
    backup = wait_for(
        lambda: (b := api(server, f"/apps/v3/backups/{created['uuid']}/")[1])["state"] == "COMPLETED" and b
    )
    assert backup["success"] == "SUCCESS", backup
    _, listed = api(server, f"/apps/v3/backups/?environment={env}")
    assert created["uuid"] in [b["uuid"] for b in listed["results"]]
    _, parts = api(server, f"/apps/v3/service-instance-backups/?backup={created['uuid']}")
    assert parts["count"] == 2
    for part in parts["results"]:
        _, instance = api(server, f"/apps/v3/service-instances/{part['service_instance']}/")
        assert instance["type"] == part["service_type"]
        _, detail = api(server, f"/apps/v3/service-instance-backups/{part['uuid']}/")
        assert detail["size"] > 0 and detail["errors"] == []
        assert detail["queued_at"] <= detail["started_at"] <= detail["ended_at"] and detail["taken_at"]


def test_a_killed_worker_fails_its_backup_and_is_restarted(server):
    media_dirs = sorted((server["data_dir"] / "services" / "storage").iterdir(), key=lambda p: p.stat().st_mtime)
    for directory in media_dirs:  # big incompressible media, so the dump takes a few seconds
        (directory / "big.bin").write_bytes(os.urandom(150 * 1024 * 1024))
    _, apps = api(server, "/apps/v3/applications/?slug=example-application")
    _, envs = api(server, f"/apps/v3/environments/?application={apps['results'][0]['uuid']}&slug=live")
    env = envs["results"][0]["uuid"]
    _, instances = api(server, f"/apps/v3/service-instances/?environment={env}&type=STORAGE")
    media = instances["results"][0]["uuid"]
    status, created = api(server, "/apps/v3/backups/", "POST", {"environment": env, "services": [media]})
    assert status == 201

    def running_part():
        _, parts = api(server, f"/apps/v3/service-instance-backups/?backup={created['uuid']}")
        part = parts["results"][0]
        return part if part["started_at"] and not part["ended_at"] else None

    wait_for(running_part, timeout=30, interval=0.1)
    serve = server["process"].pid
    worker = subprocess.run(["pgrep", "-P", str(serve), "-f", "db_worker"], capture_output=True, text=True)
    os.kill(int(worker.stdout.split()[0]), signal.SIGKILL)

    backup = wait_for(
        lambda: (b := api(server, f"/apps/v3/backups/{created['uuid']}/")[1])["state"] == "COMPLETED" and b,
        timeout=30,
    )
    assert backup["success"] == "FAILURE"
    _, parts = api(server, f"/apps/v3/service-instance-backups/?backup={created['uuid']}")
    assert "worker stopped" in parts["results"][0]["errors"][0]
    assert not list(Path(server["data_dir"], "backups").rglob("*.partial"))
    # The worker was restarted: a new backup goes through.
    status, again = api(server, "/apps/v3/backups/", "POST", {"environment": env, "services": [media]})
    done = wait_for(
        lambda: (b := api(server, f"/apps/v3/backups/{again['uuid']}/")[1])["state"] == "COMPLETED" and b,
        timeout=120,
    )
    assert done["success"] == "SUCCESS"
    for directory in media_dirs:
        (directory / "big.bin").unlink()
