"""Artifacts in an S3 bucket and media storage in S3, against a real S3 protocol server."""

import hashlib
import io
import os
import sqlite3
import tarfile
from unittest import mock

from appcontrol.backups.models import ServiceInstanceBackup
from appcontrol.core.storage import S3ArtifactWriter
from appcontrol.services.engines import engine_for

from .helpers import env_of, restore, take_backup
from .test_downloads_and_uploads import fetch, request_download


def keys(s3, settings, prefix=""):
    response = s3.list_objects_v2(Bucket=settings.APPCONTROL_S3_BUCKET, Prefix=prefix)
    return {item["Key"]: item["Size"] for item in response.get("Contents", [])}


def test_sqlite_artifacts_in_s3_download_and_restore(world, provision, run_jobs, s3, settings):
    settings.APPCONTROL_BACKUP_STORAGE = "s3"
    instance = provision(env_of(world, "live"), "sqlite")
    with sqlite3.connect(instance.resource["path"]) as db:
        db.execute("create table notes (body text)")
        db.executemany("insert into notes values (?)", [(f"note {n}",) for n in range(1000)])
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "SUCCESS"
    sib = ServiceInstanceBackup.objects.get()
    stored = keys(s3, settings, "appcontrol/backups/")
    assert list(stored.values()) == [sib.size]
    assert not [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]
    item = request_download(world, backup)
    _, body = fetch(item["download_url"])
    assert hashlib.sha256(body).hexdigest() == sib.sha256
    _, tail = fetch(item["download_url"], HTTP_RANGE="bytes=100-")
    assert tail == body[100:]
    with sqlite3.connect(instance.resource["path"]) as db:
        db.execute("delete from notes")
    assert restore(world, run_jobs, backup, actor="admin")["success"] == "SUCCESS"
    assert sqlite3.connect(instance.resource["path"]).execute("select count(*) from notes").fetchone() == (1000,)
    assert world.client("admin").delete(f"/apps/v3/backups/{backup['uuid']}/").status_code == 204
    assert keys(s3, settings, "appcontrol/backups/") == {}


def test_large_artifact_goes_up_in_parts_and_a_failed_one_leaves_nothing(world, provision, run_jobs, s3, settings):
    settings.APPCONTROL_BACKUP_STORAGE = "s3"
    media = provision(env_of(world, "live"), "filesystem")
    with open(os.path.join(media.resource["path"], "big.bin"), "wb") as handle:
        handle.write(os.urandom(12 * 1024 * 1024))
    with mock.patch.object(S3ArtifactWriter, "PART_SIZE", 5 * 1024 * 1024):
        backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "SUCCESS"
    sib = ServiceInstanceBackup.objects.get()
    _, body = fetch(request_download(world, backup)["download_url"])
    assert len(body) == sib.size > 12 * 1024 * 1024 and hashlib.sha256(body).hexdigest() == sib.sha256

    filesystem = engine_for("filesystem")
    original_dump = filesystem.dump

    def dump_then_fail(instance, out):
        original_dump(instance, out)
        raise OSError("disk vanished")

    with (
        mock.patch.object(S3ArtifactWriter, "PART_SIZE", 5 * 1024 * 1024),
        mock.patch.object(type(filesystem), "dump", side_effect=lambda instance, out: dump_then_fail(instance, out)),
    ):
        failed = take_backup(world, run_jobs, env_of(world, "live"))
    assert failed["success"] == "FAILURE"
    assert len(keys(s3, settings, "appcontrol/backups/")) == 1  # only the first backup's artifact
    uploads = s3.list_multipart_uploads(Bucket=settings.APPCONTROL_S3_BUCKET)
    assert not uploads.get("Uploads")


def test_s3_media_storage_round_trip(world, provision, run_jobs, s3, settings):
    catalogue = world.client("member").get("/apps/v3/services/").json()
    assert "s3-storage" in {item["identifier"] for item in catalogue["results"]}
    media = provision(env_of(world, "live"), "s3")
    prefix = media.resource["prefix"]
    bucket = settings.APPCONTROL_S3_BUCKET
    files = {"images/logo.png": os.urandom(5000), "readme.txt": b"hello"}
    for name, data in files.items():
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=data)
    backup = take_backup(world, run_jobs, env_of(world, "live"))
    assert backup["success"] == "SUCCESS"
    s3.put_object(Bucket=bucket, Key=prefix + "readme.txt", Body=b"changed")
    s3.put_object(Bucket=bucket, Key=prefix + "new.txt", Body=b"new")
    assert restore(world, run_jobs, backup, actor="admin")["success"] == "SUCCESS"
    after = {
        key[len(prefix) :]: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys(s3, settings, prefix)
    }
    assert after == files
    assert set(keys(s3, settings)) == {prefix + name for name in files} | {
        key for key in keys(s3, settings) if not key.startswith(prefix)
    }  # no staging objects left
    assert not [key for key in keys(s3, settings) if ".restore-" in key]


def test_broken_archive_leaves_s3_media_untouched(world, provision, s3, settings):
    media = provision(env_of(world, "live"), "s3")
    bucket, prefix = settings.APPCONTROL_S3_BUCKET, media.resource["prefix"]
    s3.put_object(Bucket=bucket, Key=prefix + "keep.txt", Body=b"keep")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    archive.seek(0)
    from appcontrol.services.engines import EngineError

    try:
        engine_for("s3").restore(media, archive)
    except EngineError as error:
        assert "leaves the directory" in str(error)
    else:
        raise AssertionError("an unsafe archive was restored")
    assert set(keys(s3, settings)) == {prefix + "keep.txt"}


def test_s3_media_variable_and_deprovision(world, provision, s3, settings):
    from appcontrol.applications.models import EnvironmentVariable

    media = provision(env_of(world, "live"), "s3", prefix="MEDIA")
    dsn = EnvironmentVariable.objects.get(service_instance=media).value
    assert dsn.startswith("s3://testing:testing@127.0.0.1:") and media.resource["prefix"] in dsn
    s3.put_object(Bucket=settings.APPCONTROL_S3_BUCKET, Key=media.resource["prefix"] + "x", Body=b"x")
    assert world.client("admin").delete(f"/apps/v3/service-instances/{media.pk}/").status_code == 204
    assert keys(s3, settings) == {}
