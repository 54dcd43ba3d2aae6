"""Hostile artifacts, built by the tests themselves: what a member could upload and then restore."""

import io
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import psycopg

from appcontrol.applications.models import Environment
from appcontrol.backups.models import Backup
from appcontrol.core.ids import encode_id
from tests.backups.helpers import finish, put, restore, start_upload


def tar_bytes(*members: tuple[tarfile.TarInfo, bytes | None], gzip: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for info, content in members:
            if content is not None:
                info.size = len(content)
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, content: bytes | None = None, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    if kind == tarfile.REGTYPE and content is None:
        content = b"x"
    return info, content


def pax_record(key: str, value: bytes) -> bytes:
    body = b" " + key.encode() + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def raw_tar(*parts: tuple[str, bytes, bytes]) -> bytes:
    """A plain tar written block by block — `(name, type, content)` — so headers can say what tarfile's own
    writer would refuse (negative sizes, huge pax headers); then the end-of-archive marker."""
    out = b""
    for name, kind, content in parts:
        info = tarfile.TarInfo(name)
        info.type, info.size = kind, len(content)
        out += info.tobuf(tarfile.USTAR_FORMAT) + content + b"\0" * (-len(content) % 512)
    return out + b"\0" * 1024


def symlink_chain_tar(destination: Path, escaped_file: str, content: bytes) -> bytes:
    """CVE-2025-4517, built as CPython's own test builds it: symlinks whose expansion passes PATH_MAX, so
    `os.path.realpath` stops resolving and `filter="data"` lets `escape/…` through — one directory above
    `destination`, where the storage of other service instances lives."""
    steps = "abcdefghijklmnop"
    max_path = os.pathconf(destination.parent, "PC_PATH_MAX")
    component = "d" * ((max_path - len(str(destination)) - 1) // (len(steps) + 1))
    members, path = [], ""
    for step in steps:
        members.append(member(os.path.join(path, component), tarfile.DIRTYPE, mode=0o777))
        members.append(member(os.path.join(path, step), tarfile.SYMTYPE, linkname=component))
        path = os.path.join(path, component)
    linkpath = os.path.join(*steps, "l" * 254)
    members.append(member(linkpath, tarfile.SYMTYPE, linkname=os.path.join(*[".."] * len(steps))))
    members.append(member("escape", tarfile.SYMTYPE, linkname=os.path.join(linkpath, "..")))
    members.append(member(f"escape/{escaped_file}", content=content))
    return tar_bytes(*members)


def tar_cut_at_block_boundary(files: int = 3) -> bytes:
    """A plain tar missing its end-of-archive marker and its last members, cut exactly between blocks:
    read naively it is a valid, shorter archive."""
    whole = tar_bytes(*(member(f"file-{n}.txt", content=b"y" * 600) for n in range(files)), gzip=False)
    # Each member: a header block and two data blocks; keep the first member only.
    return whole[: 3 * 512]


def plain_sql(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def custom_dump_running(postgres_url: str, injected: str) -> bytes:
    """A real pg_dump custom-format archive whose table COMMENT entry was edited to run `injected`: no psql
    command needed, pg_restore hands the entry's SQL over as written."""
    database = f"attack_{uuid.uuid4().hex[:10]}"
    filler = "A" * (len(injected) + 40)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    try:
        target = psycopg.conninfo.make_conninfo(postgres_url, dbname=database)
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("CREATE TABLE innocent (x int)")
            conn.execute("INSERT INTO innocent VALUES (1)")
            conn.execute(f"COMMENT ON TABLE innocent IS '{filler}'")
        dump = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", target],
            check=True,
            capture_output=True,
        ).stdout
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {database}")
    original = f"'{filler}';".encode()
    assert dump.count(original) == 1
    replacement = f"''; {injected}\n-- ".encode()
    replacement += b"A" * (len(original) - len(replacement))
    assert len(replacement) == len(original)
    return dump.replace(original, replacement)


def upload(world, run_jobs, environment: Environment, instance, data: bytes, actor="member") -> Backup:
    """Upload `data` for `instance` through the public API and finish it; the backup, checked."""
    _, target = start_upload(world, environment, instance, actor)
    response = put(target["upload_parameters"]["url"], data)
    assert response.status_code in (200, 400), response.content
    finish(run_jobs, target["finish_url"])
    return Backup.objects.filter(trigger="UPLOAD").order_by("-created_at").first()


def restore_backup(world, run_jobs, backup: Backup, actor="member") -> dict:
    parts = [encode_id(part.pk) for part in backup.service_instance_backups.all()]
    return restore(world, run_jobs, {"uuid": encode_id(backup.pk), "service_instance_backups": parts}, actor=actor)
