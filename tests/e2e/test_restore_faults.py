"""Faults on a real server: a worker killed mid-restore, two workers and two restores of one database, two
uploads racing to one URL, chunked uploads, and signed links kept out of the access log."""

import gzip
import hashlib
import http.client
import io
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from .conftest import get, running_server, server_shell, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.environ.get("APPCONTROL_POSTGRES_URL"):
        if os.environ.get("APPCONTROL_REQUIRE_POSTGRES") == "1":
            pytest.fail("APPCONTROL_POSTGRES_URL is not set, but this run requires PostgreSQL")
        pytest.skip("restore faults need PostgreSQL database instances (APPCONTROL_POSTGRES_URL)")
    with running_server(tmp_path_factory.mktemp("appcontrol-faults")) as running:
        yield running


def api(server, path, method="GET", body=None):
    status, _, payload = get(f"{server['url']}{path}", server["token"], method=method, body=body)
    return status, payload


@pytest.fixture(scope="module")
def test_env(server):
    _, apps = api(server, "/apps/v3/applications/?slug=example-application")
    _, envs = api(server, f"/apps/v3/environments/?application={apps['results'][0]['uuid']}&slug=test")
    env = envs["results"][0]["uuid"]
    _, instances = api(server, f"/apps/v3/service-instances/?environment={env}")
    by_type = {instance["type"]: instance["uuid"] for instance in instances["results"]}
    code = (
        "from appcontrol.services.models import ServiceInstance\n"
        "from appcontrol.core.ids import decode_id\n"
        f"instance = ServiceInstance.objects.get(pk=decode_id('{by_type['DATABASE']}'))\n"
        "print(instance.variables.get().value, instance.resource['database'])"
    )
    url, database = server_shell(server, code).split()
    return {"env": env, "database": by_type["DATABASE"], "media": by_type["STORAGE"], "url": url, "name": database}


def finished(server, kind: str, uuid: str, key: str = "ended_at"):
    return wait_for(lambda: (item := api(server, f"/apps/v3/{kind}/{uuid}/")[1])[key] and item, timeout=180)


def back_up(server, test_env) -> dict:
    status, created = api(
        server, "/apps/v3/backups/", "POST", {"environment": test_env["env"], "services": [test_env["database"]]}
    )
    assert status == 201, created
    backup = finished(server, "backups", created["uuid"])
    assert backup["success"] == "SUCCESS", backup
    return backup


def start_restore(server, backup) -> str:
    body = {
        "backup": backup["uuid"],
        "service_instance_restores": [{"service_instance_backup": backup["service_instance_backups"][0]}],
    }
    status, created = api(server, "/apps/v3/backup-restores/", "POST", body)
    assert status == 201, created
    return created["uuid"]


def tables(test_env) -> dict[str, int]:
    with psycopg.connect(test_env["url"]) as conn:
        names = [
            row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public' order by 1")
        ]
        return {name: conn.execute(f'select count(*) from "{name}"').fetchone()[0] for name in names}


def test_two_workers_restore_one_database_one_after_the_other(server, test_env):
    with psycopg.connect(test_env["url"]) as conn:
        conn.execute("drop table if exists notes; create table notes as select generate_series(1, 50000) n")
    backup = back_up(server, test_env)
    second_worker = subprocess.Popen(
        [sys.executable, "-m", "appcontrol", "db_worker", "--no-startup-delay", "--interval", "0.2"],
        env=server["env"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        restores = [start_restore(server, backup), start_restore(server, backup)]
        results = [finished(server, "backup-restores", uuid) for uuid in restores]
    finally:
        second_worker.send_signal(signal.SIGTERM)
        second_worker.wait(timeout=60)
    assert [r["success"] for r in results] == ["SUCCESS", "SUCCESS"], results
    first, second = sorted(results, key=lambda r: r["started_at"])
    assert second["started_at"] >= first["ended_at"], "the two restores overlapped"
    assert tables(test_env) == {"notes": 50000}


def test_a_worker_killed_mid_restore_leaves_the_database_as_it_was(server, test_env):
    with psycopg.connect(test_env["url"]) as conn:
        conn.execute("drop table if exists notes")
        conn.execute("create table big as select n, repeat('x', 200) as body from generate_series(1, 600000) n")
    backup = back_up(server, test_env)
    with psycopg.connect(test_env["url"]) as conn:
        conn.execute("drop table big; create table small as select generate_series(1, 10) n")
    before = tables(test_env)
    restore = start_restore(server, backup)

    def copying() -> bool:  # into the copy the restore fills beside the database
        staging = test_env["name"] + "_restore_"
        with psycopg.connect(os.environ["APPCONTROL_POSTGRES_URL"]) as admin:
            found = admin.execute(
                "select count(*) from pg_stat_activity "
                "where left(datname, length(%s)) = %s and query ilike 'copy%%' and state = 'active'",
                [staging, staging],
            )
            return found.fetchone()[0] > 0

    wait_for(copying, timeout=120, interval=0.05)
    serve = server["process"].pid
    worker = subprocess.run(["pgrep", "-P", str(serve), "-f", "db_worker"], capture_output=True, text=True)
    os.kill(int(worker.stdout.split()[0]), signal.SIGKILL)

    result = finished(server, "backup-restores", restore)
    assert result["success"] == "FAILURE" and "worker stopped" in result["service_instance_restores"][0]["errors"][0]
    assert tables(test_env) == before, "a killed restore changed the database"
    with psycopg.connect(os.environ["APPCONTROL_POSTGRES_URL"]) as admin:
        prefix = test_env["name"] + "_restore_"
        leftovers = admin.execute(
            "select datname from pg_database where left(datname, length(%s)) = %s", [prefix, prefix]
        ).fetchall()
    assert not leftovers, "the staging copy of the interrupted restore was left behind"
    assert subprocess.run(["pgrep", "-f", f"psql.*{test_env['name']}"], capture_output=True).returncode != 0


def media_archive_bytes(seed: bytes, size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("file.bin")
        content = hashlib.sha256(seed).digest() * (size // 32)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def start_upload(server, test_env) -> tuple[str, dict]:
    status, body = api(
        server, "/apps/v3/backups/upload/", "POST", {"environment": test_env["env"], "services": [test_env["media"]]}
    )
    assert status == 201, body
    return body["uuid"], body["results"][test_env["media"]]


def put(url: str, body, chunked: bool = False) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.request(
        "PUT", parts.path, body=body, encode_chunked=chunked, headers={"Content-Type": "application/octet-stream"}
    )
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload


def test_two_uploads_to_one_url_leave_one_consistent_artifact(server, test_env):
    backup, target = start_upload(server, test_env)
    bodies = [media_archive_bytes(b"first", 8 * 1024 * 1024), media_archive_bytes(b"second", 8 * 1024 * 1024)]
    statuses = [None, None]

    def send(index):
        statuses[index] = put(target["upload_parameters"]["url"], bodies[index])[0]

    threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409], statuses
    winner = bodies[statuses.index(200)]
    _, parts = api(server, f"/apps/v3/service-instance-backups/?backup={backup}")
    part = parts["results"][0]
    assert part["size"] == len(winner) and part["sha256"] == hashlib.sha256(winner).hexdigest()
    stored = [p for p in (server["data_dir"] / "backups").rglob("*") if p.is_file() and part["uuid"] in p.name]
    assert len(stored) == 1 and stored[0].read_bytes() == winner


def test_a_chunked_upload_is_received_whole(server, test_env):
    backup, target = start_upload(server, test_env)
    body = media_archive_bytes(b"chunked", 2 * 1024 * 1024)
    status, payload = put(
        target["upload_parameters"]["url"], (body[i : i + 65536] for i in range(0, len(body), 65536)), chunked=True
    )
    assert status == 200, payload
    status, _, _ = get(target["finish_url"], method="POST")
    assert status == 202
    done = finished(server, "backups", backup)
    assert done["success"] == "SUCCESS", done
    _, parts = api(server, f"/apps/v3/service-instance-backups/?backup={backup}")
    assert parts["results"][0]["sha256"] == hashlib.sha256(body).hexdigest()


def test_signed_links_stay_out_of_the_log(server, test_env):
    backup = back_up(server, test_env)
    status, download = api(server, "/apps/v3/backup-downloads/", "POST", {"backup": backup["uuid"]})
    assert status == 201
    _, items = api(server, f"/apps/v3/backup-download-service-instances/?backup={download['uuid']}")
    link = items["results"][0]["download_url"]
    parts = urlsplit(link)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("GET", parts.path)
    assert connection.getresponse().read() and True
    connection.request("GET", parts.path.rstrip("/")[:-3] + "bad/")  # a refused link is logged as well
    connection.getresponse().read()
    connection.close()
    _, target = start_upload(server, test_env)
    put(target["upload_parameters"]["url"], gzip.compress(b"not a tar"))
    time.sleep(1)  # the access log is written after the response
    log = server["log"].read_text()
    assert "/apps/v3/artifacts/…" in log and "/apps/v3/uploads/…" in log
    for url in (link, target["upload_parameters"]["url"], target["finish_url"]):
        token = urlsplit(url).path.split("/")[4]
        assert token not in log


def test_a_running_restore_can_be_cancelled_and_changes_nothing(server, test_env):
    with psycopg.connect(test_env["url"]) as conn:
        conn.execute("drop table if exists notes; drop table if exists small; create table kept (x int)")
    before = tables(test_env)
    _, target = start_db_upload(server, test_env)
    assert put(target["upload_parameters"]["url"], b"CREATE TABLE slow (x int);\nSELECT pg_sleep(600);\n")[0] == 200
    status, _, _ = get(target["finish_url"], method="POST")
    backup = finished(server, "backups", target_backup(server, test_env))
    assert backup["success"] == "SUCCESS", backup
    restore = start_restore(server, backup)

    def sleeping() -> bool:
        with psycopg.connect(os.environ["APPCONTROL_POSTGRES_URL"]) as admin:
            found = admin.execute("select count(*) from pg_stat_activity where query ilike '%pg_sleep(600)%'")
            return found.fetchone()[0] > 1  # ours, and this probe itself

    wait_for(sleeping, timeout=60, interval=0.1)
    status, cancelled = api(server, f"/apps/v3/backup-restores/{restore}/cancel/", "POST")
    assert status == 202, cancelled
    result = finished(server, "backup-restores", restore)
    assert result["success"] == "FAILURE"
    assert "cancelled" in result["service_instance_restores"][0]["errors"][0]
    assert tables(test_env) == before
    assert api(server, f"/apps/v3/backup-restores/{restore}/cancel/", "POST")[0] == 409


def start_db_upload(server, test_env) -> tuple[str, dict]:
    body = {"environment": test_env["env"], "services": [test_env["database"]]}
    status, answer = api(server, "/apps/v3/backups/upload/", "POST", body)
    assert status == 201, answer
    test_env["last_upload"] = answer["uuid"]
    return answer["uuid"], answer["results"][test_env["database"]]


def target_backup(server, test_env) -> str:
    return test_env["last_upload"]
