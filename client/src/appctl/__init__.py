"""appctl: a Python client for the apps/v3 API of appcontrol and compatible servers.

>>> import appctl
>>> with appctl.Client("http://127.0.0.1:8000", token="apc_…") as client:
...     found = client.backups.latest(application="example-application", environment="live")
"""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    APIError,
    AppctlError,
    ChecksumMismatch,
    ConfigurationError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    Unauthorized,
    ValidationError,
    WaitTimeout,
)

__all__ = [
    "APIError", "AppctlError", "ChecksumMismatch", "Client", "ConfigurationError", "Conflict", "ConnectionFailed",
    "Forbidden", "NotFound", "PreconditionFailed", "RateLimited",
    "ServerError", "Unauthorized", "ValidationError", "WaitTimeout", "__version__",
]  # fmt: skip
