from datetime import datetime
from typing import BinaryIO


class EngineError(Exception):
    """A failure with a message fit for a service instance's or a backup's `errors`."""


class Engine:
    name: str
    # What a dump of this engine looks like on disk, for downloads and uploads.
    artifact_extension: str

    def is_configured(self) -> bool:
        return True

    def provision(self, instance) -> dict[str, str]:
        """Create the resource; record its location in `instance.resource`; return its variables."""
        raise NotImplementedError

    def deprovision(self, instance) -> None:
        raise NotImplementedError

    def dump(self, instance, out: BinaryIO) -> datetime:
        """Write a consistent snapshot to `out`; return the moment the snapshot reflects."""
        raise NotImplementedError

    def restore(self, instance, source: BinaryIO) -> None:
        """Replace the resource's data with the artifact read from `source`, or leave it as it was."""
        raise NotImplementedError

    def discard_partial_restore(self, instance) -> None:
        """Remove what an interrupted restore left beside the resource (a staging copy); the resource itself
        is untouched. Restores of one instance run one at a time, so whatever is found belongs to one that is
        over."""

    def check_artifact(self, head: bytes) -> None:
        """Reject an uploaded artifact whose first bytes cannot be of this engine's format."""
        raise NotImplementedError

    def verify_artifact(self, source: BinaryIO) -> None:
        """Read a whole uploaded artifact and reject it unless it can be restored; by default the
        first bytes decide."""
        self.check_artifact(source.read(4096))


def variable_name(prefix: str, kind: str) -> str:
    """`DATABASE_URL` for the default database, `<PREFIX>_DATABASE_URL` otherwise; storage always
    carries its prefix (`DEFAULT_STORAGE_DSN`), as hosted platforms name them."""
    if kind == "DATABASE":
        return "DATABASE_URL" if prefix == "DEFAULT" else f"{prefix}_DATABASE_URL"
    return f"{prefix}_STORAGE_DSN"
