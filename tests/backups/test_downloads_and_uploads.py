"""Signed download links (Range, sha256, expiry) and uploads checked before they count."""

import hashlib
import io
import sqlite3
import subprocess
import tarfile
import time

import pytest
from django.test import Client

from appcontrol.backups.models import Backup
from appcontrol.core.ids import decode_id, encode_id
from tests.conftest import api_url

from .helpers import env_of, finish, put, restore, start_upload, take_backup


def request_download(world, backup, actor="member"):
    client = world.client(actor)
    created = client.post(
        api_url("api:backup-download-list"),
        {"backup": backup["uuid"], "service_instance_backups": backup["service_instance_backups"], "trigger": "PULL"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    listed = client.get(
        api_url("api:backup-download-service-instance-list", query=f"backup={created.json()['uuid']}&page_size=10")
    )
    item_id = listed.json()["results"][0]["uuid"]
    return client.get(api_url("api:backup-download-service-instance-detail", uuid=item_id).rstrip("/")).json()


def fetch(url, **headers):
    """Fetch a capability link like divio-cli does: plain HTTP, no token (but maybe netrc Basic auth)."""
    response = Client().get(url.replace("http://testserver", ""), **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.fixture
def database_backup(world, provision, run_jobs):
    instance = provision(env_of(world, "live"), "sqlite")
    with sqlite3.connect(instance.resource["path"]) as db:
        db.execute("create table notes (body text)")
        db.executemany("insert into notes values (?)", [(f"note {n}" * 20,) for n in range(2000)])
    return take_backup(world, run_jobs, env_of(world, "live"))


def test_download_has_the_recorded_sha256_and_ignores_authorization(world, database_backup):
    item = request_download(world, database_backup)
    assert item["ended_at"] and item["errors"] == [] and item["download_url"].startswith("http://testserver/")
    response, body = fetch(item["download_url"], HTTP_AUTHORIZATION="Basic bWU6bXktdG9rZW4=")
    assert response.status_code == 200
    assert hashlib.sha256(body).hexdigest() == item["sha256"] == response["X-Checksum-SHA256"]
    assert len(body) == item["size"] == int(response["Content-Length"])
    assert body.startswith(b"SQLite format 3\x00")


def test_download_supports_ranges_for_resuming(world, database_backup):
    item = request_download(world, database_backup)
    _, whole = fetch(item["download_url"])
    first, head = fetch(item["download_url"], HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206 and head == whole[:100]
    assert first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    rest_response, rest = fetch(item["download_url"], HTTP_RANGE="bytes=100-")
    assert rest_response.status_code == 206 and head + rest == whole
    _, tail = fetch(item["download_url"], HTTP_RANGE="bytes=-10")
    assert tail == whole[-10:]
    unsatisfiable, _ = fetch(item["download_url"], HTTP_RANGE=f"bytes={len(whole)}-")
    assert unsatisfiable.status_code == 416 and unsatisfiable["Content-Range"] == f"bytes */{len(whole)}"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=x-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000]
)
def test_a_range_this_server_does_not_serve_gets_the_whole_artifact(world, database_backup, header):
    item = request_download(world, database_backup)
    response, body = fetch(item["download_url"], HTTP_RANGE=header)
    assert response.status_code == 200 and len(body) == item["size"] and "Content-Range" not in response


def test_tampered_and_expired_links_are_refused(world, database_backup, settings):
    url = request_download(world, database_backup)["download_url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    response, body = fetch(tampered)
    assert response.status_code == 403 and b"not valid" in body
    settings.APPCONTROL_LINK_MAX_AGE_SECONDS = 1
    time.sleep(2)
    response, body = fetch(url)
    assert response.status_code == 403 and b"expired" in body


def test_download_of_a_failed_part_says_why(world, provision, run_jobs, settings):
    instance = provision(env_of(world, "live"), "sqlite")
    instance.resource = {"path": "/nonexistent/x.sqlite3"}
    instance.save()
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "FAILURE"
    item = request_download(world, backup)
    assert item["download_url"] is None and "did not succeed" in item["errors"][0]


def test_postgres_artifact_is_a_valid_custom_dump(world, provision, run_jobs, postgres_url):
    import psycopg

    from .helpers import database_url

    instance = provision(env_of(world, "live"), "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table notes (body text)")
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    _, body = fetch(request_download(world, backup)["download_url"])
    listing = subprocess.run(["pg_restore", "--list"], input=body, capture_output=True, check=True).stdout
    assert b"TABLE public notes" in listing


def test_upload_finish_and_restore_a_sqlite_database(world, provision, run_jobs, tmp_path):
    instance = provision(env_of(world, "test"), "sqlite")
    source = tmp_path / "upload.sqlite3"
    with sqlite3.connect(source) as db:
        db.execute("create table uploaded (x)")
        db.execute("insert into uploaded values (42)")
    backup_id, target = start_upload(world, env_of(world, "test"), instance)
    assert Backup.objects.get().state == "WORKING"
    response = put(target["upload_parameters"]["url"], source.read_bytes())
    assert response.status_code == 200, response.content
    finish(run_jobs, target["finish_url"])
    backup = world.client("member").get(api_url("api:backup-detail", uuid=backup_id)).json()
    assert backup["state"] == "COMPLETED" and backup["success"] == "SUCCESS" and backup["trigger"] == "UPLOAD"
    assert restore(world, run_jobs, backup)["success"] == "SUCCESS"
    assert sqlite3.connect(instance.resource["path"]).execute("select x from uploaded").fetchall() == [(42,)]
    assert source.exists()  # the user's file is never touched


def test_upload_of_the_wrong_format_is_refused_and_stores_nothing(world, provision, run_jobs, settings):
    instance = provision(env_of(world, "test"), "sqlite")
    backup_id, target = start_upload(world, env_of(world, "test"), instance)
    response = put(target["upload_parameters"]["url"], b"this is not a database" * 100)
    assert response.status_code == 400
    assert response.json() == {"detail": "This is not a SQLite database file."}
    assert not list(settings.APPCONTROL_BACKUP_DIR.rglob("*.sqlite3*"))
    # A client that stops here (as one should after a refusal) does not leave the backup WORKING.
    backup = world.client("member").get(api_url("api:backup-detail", uuid=backup_id)).json()
    assert backup["state"] == "COMPLETED" and backup["success"] == "FAILURE"
    sib = world.client("member").get(
        api_url("api:service-instance-backup-detail", uuid=backup["service_instance_backups"][0])
    )
    assert sib.json()["errors"] == ["This is not a SQLite database file."]
    again = put(target["upload_parameters"]["url"], b"SQLite format 3\x00" + b"\x00" * 100)
    assert again.status_code in (400, 409)  # the upload is over: start a new one
    finish(run_jobs, target["finish_url"])  # finishing it anyway changes nothing
    assert world.client("member").get(api_url("api:backup-detail", uuid=backup_id)).json() == backup


def test_upload_over_the_limit_is_413(world, provision, settings):
    instance = provision(env_of(world, "test"), "filesystem")
    _, target = start_upload(world, env_of(world, "test"), instance)
    settings.APPCONTROL_UPLOAD_MAX_BYTES = 10
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = b"x" * 1000
        info = tarfile.TarInfo("a.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert put(target["upload_parameters"]["url"], archive.getvalue()).status_code == 413


def test_plain_sql_upload_restores_into_postgres(world, provision, run_jobs, postgres_url):
    import psycopg

    from .helpers import database_url

    instance = provision(env_of(world, "test"), "postgres")
    _, target = start_upload(world, env_of(world, "test"), instance)
    sql = b"CREATE TABLE pushed (x int);\nINSERT INTO pushed VALUES (7);\n"
    assert put(target["upload_parameters"]["url"], sql).status_code == 200
    finish(run_jobs, target["finish_url"])
    backup = Backup.objects.get()
    assert backup.success == "SUCCESS"
    result = restore(
        world,
        run_jobs,
        {
            "uuid": encode_id(backup.pk),
            "service_instance_backups": [encode_id(backup.service_instance_backups.get().pk)],
        },
    )
    assert result["success"] == "SUCCESS", result
    with psycopg.connect(database_url(instance)) as conn:
        assert conn.execute("select x from pushed").fetchall() == [(7,)]


def test_broken_sql_restore_fails_and_leaves_the_database_as_it_was(world, provision, run_jobs, postgres_url):
    import psycopg

    from .helpers import database_url

    instance = provision(env_of(world, "test"), "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table keep (x int)")
        conn.execute("insert into keep values (1)")
    _, target = start_upload(world, env_of(world, "test"), instance)
    put(target["upload_parameters"]["url"], b"CREATE TABLE half (x int);\nTHIS IS NOT SQL;\n")
    finish(run_jobs, target["finish_url"])
    backup = Backup.objects.get()
    result = restore(
        world,
        run_jobs,
        {
            "uuid": encode_id(backup.pk),
            "service_instance_backups": [encode_id(backup.service_instance_backups.get().pk)],
        },
    )
    assert result["success"] == "FAILURE"
    assert "rolled back" in result["service_instance_restores"][0]["errors"][0]
    with psycopg.connect(database_url(instance)) as conn:
        assert conn.execute("select x from keep").fetchall() == [(1,)]
        assert conn.execute("select to_regclass('half')").fetchone()[0] is None


def test_links_of_one_kind_do_not_open_another(world, provision):
    instance = provision(env_of(world, "test"), "sqlite")
    _, target = start_upload(world, env_of(world, "test"), instance)
    token = target["upload_parameters"]["url"].rstrip("/").rsplit("/", 1)[1]
    response, _ = fetch(f"/apps/v3/artifacts/{token}/")
    assert response.status_code == 403


def test_truncated_custom_dump_fails_the_check(world, provision, run_jobs, postgres_url, tmp_path):
    import psycopg

    from .helpers import database_url

    source = provision(env_of(world, "live"), "postgres")
    target = provision(env_of(world, "test"), "postgres")
    with psycopg.connect(database_url(source)) as conn:
        conn.execute("create table notes as select g, md5(g::text) from generate_series(1, 20000) g")
    dump = subprocess.run(
        ["pg_dump", "-Fc", database_url(source)], capture_output=True, check=True
    ).stdout  # fmt: skip
    backup_id, upload = start_upload(world, env_of(world, "test"), target)
    assert put(upload["upload_parameters"]["url"], dump[: len(dump) // 2]).status_code == 200
    finish(run_jobs, upload["finish_url"])
    backup = Backup.objects.get(pk=decode_id(backup_id))
    assert backup.success == "FAILURE"
    assert "pg_restore cannot read this dump" in backup.service_instance_backups.get().errors[0]


def test_corrupt_tar_fails_the_check(world, provision, run_jobs):
    media = provision(env_of(world, "test"), "filesystem")
    backup_id, upload = start_upload(world, env_of(world, "test"), media)
    assert put(upload["upload_parameters"]["url"], b"\x1f\x8b" + b"garbage" * 500).status_code == 200
    finish(run_jobs, upload["finish_url"])
    backup = Backup.objects.get()
    assert backup.success == "FAILURE"
    assert "not a complete, readable tar archive" in backup.service_instance_backups.get().errors[0]
