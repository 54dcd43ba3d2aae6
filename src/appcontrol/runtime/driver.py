"""The driver interface: the operations a deployment needs from a container engine."""

from collections.abc import Callable, Iterator
from typing import Protocol

from .specs import BuildSpec, LogLine, ProcessSpec, Running

Output = Callable[[str], None]


class Driver(Protocol):
    name: str

    def ping(self) -> None:
        """Raise RuntimeFailure unless the engine answers."""

    def image_exists(self, tag: str) -> bool:
        """Whether an image with this tag is present where releases start."""

    def build(self, spec: BuildSpec, output: Output) -> None:
        """Build the context's Dockerfile into `spec.tag`, passing each output line to `output`; raise
        RuntimeFailure with the reason when the build fails."""

    def run_once(self, spec: ProcessSpec, timeout: float, output: Output) -> int:
        """Run `spec.command` to its end in a throw-away container; return its exit code (124 on timeout)."""

    def start(self, spec: ProcessSpec) -> None:
        """Start the long-running process `spec.name`, restarted when it crashes."""

    def state(self, name: str) -> Running | None:
        """The process's current state, or None when it does not exist."""

    def stop(self, name: str, grace_seconds: float) -> None:
        """Stop the process (SIGTERM, then SIGKILL after the grace period) and remove it; no error when it
        does not exist."""

    def logs(self, name: str, since: float | None = None, tail: int | None = None) -> Iterator[LogLine]:
        """The process's output with timestamps, oldest first."""

    def list(self) -> list[Running]:
        """Every process this driver runs for appcontrol."""
