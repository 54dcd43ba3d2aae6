"""The HTTP layer: the token header, JSON errors as exceptions, and lists across every page."""

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from .errors import error_for

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class Client:
    """`Client(base_url, token=…)`; the token defaults to the APPCTL_TOKEN environment variable."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT):
        from . import __version__

        self.base_url = base_url.rstrip("/")
        token = token if token is not None else os.environ.get("APPCTL_TOKEN")
        self._origin = urlsplit(self.base_url)[:2]
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"user-agent": f"appctl/{__version__}", "accept": "application/json"},
        )
        self._token = token

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def request(self, method: str, path_or_url: str, **kwargs) -> httpx.Response:
        """Send a request; raise an APIError subclass for any 4xx/5xx answer."""
        headers = dict(kwargs.pop("headers", None) or {})
        # The token goes only to the server it belongs to, never to a URL of another origin.
        if self._token and self._same_origin(path_or_url):
            headers["authorization"] = f"Token {self._token}"
        response = self._http.request(method, path_or_url, headers=headers, **kwargs)
        if response.is_error:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:500]
            raise error_for(response.status_code, body, method, str(response.url))
        return response

    def get(self, path: str, **params):
        return self.request("GET", path, params=params or None).json()

    def paginate(self, path: str, *, limit: int | None = None, **params) -> Iterator[dict]:
        """Yield every item of a list, following `next` verbatim across all pages (or up to `limit`)."""
        url: str | None = path
        query = params or None
        yielded = 0
        while url:
            page = self.request("GET", url, params=query).json()
            for item in page["results"]:
                if limit is not None and yielded >= limit:
                    return
                yield item
                yielded += 1
            url, query = page.get("next"), None  # `next` already carries the filters

    def _same_origin(self, path_or_url: str) -> bool:
        parts = urlsplit(path_or_url)
        return not parts.scheme or (parts.scheme, parts.netloc) == self._origin
