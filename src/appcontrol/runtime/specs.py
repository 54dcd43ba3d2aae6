"""What a driver is asked to build and run, and what it reports back."""

from dataclasses import dataclass, field
from pathlib import Path

# Every container and service a driver starts carries these labels, so `list()` finds ours only.
MANAGED_LABEL = "org.appcontrol.managed"
ENVIRONMENT_LABEL = "org.appcontrol.environment"
DEPLOYMENT_LABEL = "org.appcontrol.deployment"


@dataclass(frozen=True)
class BuildSpec:
    context_archive: Path  # a tar of the source tree holding the Dockerfile, sent to the engine as it is
    tag: str
    timeout: float
    memory_bytes: int
    network: str = "none"  # what RUN steps reach: "none", or a network of the engine ("host" reaches loopback)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """What one container may use. Tenant code is hostile: no capabilities, no privilege escalation."""

    memory_bytes: int
    pids: int = 512


@dataclass(frozen=True)
class ProcessSpec:
    """A web process (`start`) or a one-off command (`run_once`) of a release."""

    name: str
    image: str
    environment: dict[str, str]
    limits: Limits
    command: list[str] | None = None  # None: the image's CMD
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Running:
    """A process a driver runs for us, as `list()` reports it."""

    name: str
    image: str
    labels: dict[str, str]
    state: str  # "running", "restarting", "exited", ...
    restarts: int = 0


@dataclass(frozen=True)
class LogLine:
    timestamp: str  # ISO 8601, UTC, as the engine reports it
    stream: str  # "stdout" or "stderr"
    message: str


class RuntimeFailure(Exception):
    """The engine refused or failed an operation; the message is fit to show the application's owner."""
