"""appctl: a Python client for the apps/v3 API of appcontrol and compatible servers.

>>> import appctl
>>> client = appctl.Client("http://127.0.0.1:8000", token="apc_…")
>>> [app["slug"] for app in client.paginate("/apps/v3/applications/")]
"""

from .client import Client
from .errors import APIError, NotFound, Unauthorized, ValidationError

__version__ = "0.1.0"
__all__ = ["APIError", "Client", "NotFound", "Unauthorized", "ValidationError", "__version__"]
