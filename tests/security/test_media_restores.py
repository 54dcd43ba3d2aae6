"""A member restores a hostile media archive: nothing may land outside the target, and a refused archive
changes nothing."""

import gzip
import io
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from appcontrol.services.engines import EngineError, engine_for, media_archive
from tests.backups.helpers import env_of, tree_digest

from .attacks import (
    member,
    pax_record,
    raw_tar,
    restore_backup,
    symlink_chain_tar,
    tar_bytes,
    tar_cut_at_block_boundary,
    upload,
)

# CPython releases whose tarfile filter stops the symlink chain of CVE-2025-4517.
FILTER_FIXED_IN = {(3, 12): (3, 12, 11), (3, 13): (3, 13, 4)}


@pytest.fixture
def media(world, provision):
    """The member's media storage with files to protect, and another organisation's beside it."""
    mine = provision(env_of(world, "test"), "filesystem")
    theirs = provision(env_of(world, "live", app="other"), "filesystem")
    (Path(mine.resource["path"]) / "keep.txt").write_text("mine")
    (Path(theirs.resource["path"]) / "secret.txt").write_text("theirs")
    return mine, theirs


def state_of(media_pair, data_dir: Path) -> dict:
    mine, theirs = media_pair
    storage = Path(mine.resource["path"]).parent
    return {
        "mine": tree_digest(Path(mine.resource["path"])),
        "theirs": tree_digest(Path(theirs.resource["path"])),
        "storage": sorted(path.name for path in storage.iterdir()),
        "data dir": sorted(str(path) for path in data_dir.iterdir()),
    }


def restore_directly(instance, data: bytes):
    """Run the engine's restore on an archive as a restore job does (bypassing the upload check)."""
    with open_local(data) as source:
        engine_for("filesystem").restore(instance, source)


def open_local(data: bytes):
    import tempfile

    handle = tempfile.TemporaryFile()
    handle.write(data)
    handle.seek(0)
    return handle


ATTACKS = {
    "parent path": lambda media: tar_bytes(member("../escaped.txt")),
    "nested parent path": lambda media: tar_bytes(member("a/../../escaped.txt")),
    "absolute path": lambda media: tar_bytes(member("/etc/escaped.txt")),
    "symlink out": lambda media: tar_bytes(member("link", tarfile.SYMTYPE, linkname=".."), member("link/escaped.txt")),
    "hard link to a file outside": lambda media: tar_bytes(
        member("hard", tarfile.LNKTYPE, linkname=str(Path(media[1].resource["path"]) / "secret.txt"))
    ),
    "device": lambda media: tar_bytes(member("null", tarfile.CHRTYPE, devmajor=1, devminor=3)),
    "named pipe": lambda media: tar_bytes(member("pipe", tarfile.FIFOTYPE)),
    "symlink chain past PATH_MAX": lambda media: symlink_chain_tar(
        Path(media[0].resource["path"]), f"{Path(media[1].resource['path']).name}/secret.txt", b"overwritten"
    ),
    "cut at a block boundary": lambda media: tar_cut_at_block_boundary(),
    "cut inside a member": lambda media: tar_bytes(member("big.bin", content=b"z" * 5000), gzip=False)[:1536],
    "garbage after the end": lambda media: tar_bytes(member("ok.txt"), gzip=False) + b"\x01" * 600,
    "a file twice": lambda media: tar_bytes(member("twice.txt"), member("twice.txt")),
    "a file and a directory of one name": lambda media: tar_bytes(member("x"), member("x/y.txt")),
    "a directory's name reused by a file": lambda media: tar_bytes(member("a/b"), member("a")),
    "a path 1500 directories deep": lambda media: raw_tar(
        ("pax", tarfile.XHDTYPE, pax_record("path", ("d/" * 1500 + "f").encode())), ("f", tarfile.REGTYPE, b"x")
    ),
    "a negative size in a pax header": lambda media: raw_tar(
        ("pax", tarfile.XHDTYPE, pax_record("size", b"-511")), ("n", tarfile.REGTYPE, b"")
    ),
    "a pax header bigger than any name (CVE-2024-6232)": lambda media: raw_tar(
        ("pax", tarfile.XHDTYPE, pax_record("comment", b"1" * 40_000)), ("f", tarfile.REGTYPE, b"x")
    ),
    "a GNU long name of 300 MB": lambda media: gzip.compress(
        raw_tar(("././@LongLink", tarfile.GNUTYPE_LONGNAME, b"a" * 300_000_000))
    ),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_archives_are_refused_by_the_upload_check(world, run_jobs, media, settings, attack):
    before = state_of(media, settings.DATA_DIR)
    backup = upload(world, run_jobs, env_of(world, "test"), media[0], ATTACKS[attack](media))
    part = backup.service_instance_backups.get()
    assert backup.success == "FAILURE" and part.errors, part.errors
    assert "cannot be restored" in part.errors[0] or "not a tar archive" in part.errors[0]
    assert state_of(media, settings.DATA_DIR) == before


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_archives_are_refused_by_the_restore_itself(media, settings, attack):
    """The restore does not rely on the upload check: the same archives fail there too, writing nothing."""
    before = state_of(media, settings.DATA_DIR)
    with pytest.raises(EngineError, match="cannot be restored"):
        restore_directly(media[0], ATTACKS[attack](media))
    assert state_of(media, settings.DATA_DIR) == before


def test_the_refusal_names_what_is_wrong(media):
    with pytest.raises(EngineError, match=r"symbolic link \('link'\); only regular files and directories"):
        restore_directly(media[0], ATTACKS["symlink out"](media))
    with pytest.raises(EngineError, match="end-of-archive marker"):
        restore_directly(media[0], tar_cut_at_block_boundary())


@pytest.mark.skipif(
    sys.version_info[:3] >= FILTER_FIXED_IN.get(sys.version_info[:2], (0,)),
    reason="this Python's tarfile filter stops the symlink chain itself",
)
def test_the_symlink_chain_does_escape_tarfiles_own_filter_here(tmp_path):
    """The attack archive is real: on this Python, `extractall(filter="data")` writes outside its target."""
    target = tmp_path / "dest"
    target.mkdir()
    archive = symlink_chain_tar(target, "escaped.txt", b"out")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    assert (tmp_path / "escaped.txt").read_bytes() == b"out"


def test_odd_but_harmless_members_are_restored(media):
    """Deep trees, `./` prefixes, re-declared directories and timestamps no file system can hold."""
    deep = "/".join(["d"] * 250) + "/deep.txt"
    archive = raw_tar(
        ("pax", tarfile.XHDTYPE, pax_record("path", deep.encode())), ("ignored", tarfile.REGTYPE, b"deep"),
        ("./dir/", tarfile.DIRTYPE, b""), ("dir", tarfile.DIRTYPE, b""), ("./dir/./f", tarfile.REGTYPE, b"f"),
        ("pax", tarfile.XHDTYPE, pax_record("mtime", b"1e400")), ("far-future", tarfile.REGTYPE, b"t"),
    )  # fmt: skip
    restore_directly(media[0], archive)
    root = Path(media[0].resource["path"])
    assert (root / deep).read_bytes() == b"deep" and (root / "dir/f").read_bytes() == b"f"
    assert (root / "far-future").read_bytes() == b"t"


def test_bounds_on_entries_and_bytes(media, settings):
    settings.APPCONTROL_MEDIA_MAX_FILES = 3
    with pytest.raises(EngineError, match="more than 3 entries"):
        restore_directly(media[0], tar_bytes(*(member(f"f{n}") for n in range(4))))
    settings.APPCONTROL_MEDIA_MAX_FILES = 100
    settings.APPCONTROL_MEDIA_MAX_BYTES = 1000
    with pytest.raises(EngineError, match="more than 1000 bytes"):
        restore_directly(media[0], tar_bytes(member("a", content=b"1" * 600), member("b", content=b"2" * 600)))
    assert tree_digest(Path(media[0].resource["path"])).keys() == {"keep.txt"}


def test_a_restored_tree_has_sane_modes(media):
    archive = tar_bytes(
        member("./", tarfile.DIRTYPE, mode=0o700),
        member("bin/", tarfile.DIRTYPE, mode=0o777),
        member("bin/tool", content=b"#!/bin/sh\n", mode=0o6777),
        member("bin/data.txt", content=b"d", mode=0o666),
    )
    restore_directly(media[0], archive)
    root = Path(media[0].resource["path"])
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "bin").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "bin/tool").stat().st_mode) == 0o755  # no setuid, setgid or world write
    assert stat.S_IMODE((root / "bin/data.txt").stat().st_mode) == 0o644
    assert not (root / "keep.txt").exists()  # the whole tree was replaced


def test_backups_do_not_follow_links_out_of_the_storage(world, run_jobs, media, settings, tmp_path):
    """An application may leave a link in its storage; a backup must not carry the file it points to."""
    mine, theirs = media
    outside = tmp_path / "outside.txt"
    outside.write_text("operator file")
    root = Path(mine.resource["path"])
    (root / "link-to-outside").symlink_to(outside)
    (root / "link-to-theirs").symlink_to(Path(theirs.resource["path"]))
    from tests.backups.helpers import take_backup

    backup = take_backup(world, run_jobs, env_of(world, "test"))
    assert backup["success"] == "SUCCESS"
    result = restore_backup(world, run_jobs, backup_object(backup))
    assert result["success"] == "SUCCESS", result
    assert tree_digest(root).keys() == {"keep.txt"}


def backup_object(backup: dict):
    from appcontrol.backups.models import Backup
    from appcontrol.core.ids import decode_id

    return Backup.objects.get(pk=decode_id(backup["uuid"]))


def test_the_archive_helper_stands_alone():
    """The sandbox runs media_archive.py with `python -I -S`: it may import the standard library only."""
    source = Path(media_archive.__file__).read_text()
    assert "appcontrol" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))
