"""Engines: everything appcontrol knows about one kind of resource, behind one small interface.

An engine provisions and removes a service instance's resource, and dumps and restores its data as
a stream of bytes, so backups, downloads and restores never care which engine they talk to.
"""

from .base import Engine, EngineError
from .filesystem import FilesystemEngine
from .postgres import PostgresEngine
from .s3 import S3Engine
from .sqlite import SqliteEngine

ENGINES: dict[str, Engine] = {
    engine.name: engine for engine in (PostgresEngine(), SqliteEngine(), FilesystemEngine(), S3Engine())
}


def engine_for(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineError(f"The {name} engine is not available on this server.") from None


def available_engines() -> list[str]:
    return [name for name, engine in ENGINES.items() if engine.is_configured()]


__all__ = ["ENGINES", "Engine", "EngineError", "available_engines", "engine_for"]
