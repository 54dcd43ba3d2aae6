"""HTTP: the token header (to the server's own origin only), retries where safe, errors as exceptions,
and lists followed across every page."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import stamina

from .errors import APIError, ConnectionFailed, error_for

RETRY_STATUSES = {429, 502, 503, 504}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


class _Retryable(Exception):
    def __init__(self, response: httpx.Response):
        self.response = response


class Transport:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0, retries: int = 4, user_agent: str):
        self.base_url = base_url.rstrip("/")
        self.origin = urlsplit(self.base_url)[:2]
        self.token = token
        self.retries = retries
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"user-agent": user_agent, "accept": "application/json"},
            follow_redirects=False,
        )
        self.request_count = 0

    def close(self) -> None:
        self.http.close()

    def same_origin(self, path_or_url: str) -> bool:
        parts = urlsplit(path_or_url)
        return not parts.scheme or (parts.scheme, parts.netloc) == self.origin

    def request(self, method: str, path_or_url: str, **kwargs) -> httpx.Response:
        """Send a request; retry idempotent ones on 429/502/503/504 and transport errors."""
        method = method.upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and self.same_origin(path_or_url):
            headers["authorization"] = f"Token {self.token}"
        retryable = method in IDEMPOTENT

        def send() -> httpx.Response:
            self.request_count += 1
            response = self.http.request(method, path_or_url, headers=headers, **kwargs)
            if retryable and response.status_code in RETRY_STATUSES:
                raise _Retryable(response)
            return response

        try:
            if retryable and self.retries:
                response = stamina.retry(
                    on=(_Retryable, httpx.TransportError), attempts=self.retries + 1, wait_initial=0.2, wait_max=5
                )(send)()
            else:
                response = send()
        except _Retryable as exhausted:
            response = exhausted.response
        except httpx.UnsupportedProtocol:
            raise ConnectionFailed(
                f"{self.base_url} is not a URL appctl can use: it must start with http:// or https://."
            ) from None
        except httpx.HTTPError as error:
            raise ConnectionFailed(_unreachable(self.base_url, error)) from None
        if response.is_error:
            raise self._error(response, method)
        return response

    def _error(self, response: httpx.Response, method: str) -> APIError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500] or response.reason_phrase
        return error_for(response.status_code, body, method, str(response.url), response.headers.get("x-request-id"))

    def get_json(self, path: str, params: dict | None = None):
        return self.request("GET", path, params=params).json()

    def paginate(self, path: str, params: dict | None = None, *, limit: int | None = None) -> Iterator[dict]:
        """Every item of a list, following `next` verbatim (it carries the filters), until `limit`."""
        url: str | None = path
        query = {k: v for k, v in (params or {}).items() if v is not None} or None
        yielded = 0
        while url:
            page = self.request("GET", url, params=query).json()
            for item in page["results"]:
                if limit is not None and yielded >= limit:
                    return
                yield item
                yielded += 1
            url, query = page.get("next"), None


def _unreachable(base_url: str, error: httpx.HTTPError) -> str:
    """One line saying what failed and what to check."""
    reason = str(error) or type(error).__name__
    if "SSL" in reason or "TLS" in reason or "WRONG_VERSION_NUMBER" in reason:
        hint = "is it a plain-HTTP server? try http://"
    elif isinstance(error, httpx.TimeoutException):
        hint = "it did not answer in time"
    else:
        hint = "is the server running, and is the URL right?"
    return f"cannot reach {base_url}: {reason.splitlines()[0]} ({hint})"
