import contextlib
import os
import shutil
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from appcontrol.core.ids import encode_id

from .base import Engine, EngineError, variable_name

SQLITE_HEADER = b"SQLite format 3\x00"
CHUNK = 1024 * 1024


class SqliteEngine(Engine):
    name = "sqlite"
    artifact_extension = "sqlite3"

    def _path(self, instance) -> Path:
        return Path(instance.resource["path"])

    def provision(self, instance) -> dict[str, str]:
        directory = settings.APPCONTROL_SERVICES_DIR / "sqlite"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{encode_id(instance.pk)}.sqlite3"
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA journal_mode=WAL")
        instance.resource = {"path": str(path)}
        return {variable_name(instance.prefix, "DATABASE"): f"sqlite:///{path}"}

    def deprovision(self, instance) -> None:
        if "path" not in instance.resource:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._path(instance)}{suffix}").unlink(missing_ok=True)

    def dump(self, instance, out) -> datetime:
        path = self._path(instance)
        if not path.exists():
            raise EngineError(f"The database file {path.name} is missing.")
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".backup") as copy:
            # The online backup API copies a consistent snapshot even while the app writes.
            with (
                contextlib.closing(sqlite3.connect(path)) as source,
                contextlib.closing(sqlite3.connect(copy.name)) as target,
            ):
                source.backup(target)
                taken_at = timezone.now()
                target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            with open(copy.name, "rb") as snapshot:
                shutil.copyfileobj(snapshot, out, CHUNK)
        return taken_at

    def restore(self, instance, source) -> None:
        path = self._path(instance)
        fd, staged = tempfile.mkstemp(dir=path.parent, suffix=".restore")
        try:
            with os.fdopen(fd, "wb") as staging:
                shutil.copyfileobj(source, staging, CHUNK)
            with open(staged, "rb") as staging:
                self.check_artifact(staging.read(len(SQLITE_HEADER)))
            with contextlib.closing(sqlite3.connect(staged)) as restored:
                if restored.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise EngineError("The SQLite artifact is damaged (integrity check failed).")
                # The backup API writes the pages into the live database inside its own lock, so
                # connected apps never see a half-restored file, and the WAL stays consistent.
                with contextlib.closing(sqlite3.connect(path)) as live:
                    restored.backup(live)
        except sqlite3.DatabaseError as error:
            raise EngineError(f"The SQLite artifact cannot be restored: {error}") from None
        finally:
            os.unlink(staged)

    def verify_artifact(self, source) -> None:
        with tempfile.NamedTemporaryFile(suffix=".sqlite3") as copy:
            shutil.copyfileobj(source, copy, CHUNK)
            copy.flush()
            copy.seek(0)
            self.check_artifact(copy.read(len(SQLITE_HEADER)))
            try:
                with contextlib.closing(sqlite3.connect(f"file:{copy.name}?mode=ro", uri=True)) as db:
                    healthy = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            except sqlite3.DatabaseError:
                healthy = False
            if not healthy:
                raise EngineError("The SQLite database file is damaged (integrity check failed).")

    def check_artifact(self, head: bytes) -> None:
        if not head.startswith(SQLITE_HEADER):
            raise EngineError("This is not a SQLite database file.")
