"""HTTP: the token header (to the server's own origin only), retries where safe, errors as exceptions,
lists followed across every page, and reads that cost no body when nothing changed.

Retries: reads and other idempotent methods, and every POST, which carries an `Idempotency-Key` (the same
on each try, so the server does its work once), are retried on 429/502/503/504 and on connection failures,
waiting what `Retry-After` says (up to MAX_RETRY_AFTER) or backing off exponentially with jitter.
"""

import json
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from .errors import APIError, ConnectionFailed, error_for

RETRY_STATUSES = {429, 502, 503, 504}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
# A server asking for a longer wait gets its error reported instead: a command should not hang silently.
MAX_RETRY_AFTER = 60.0
# Bodies kept to answer a 304 (If-None-Match); polls re-read a few objects many times.
REMEMBERED_BODIES = 64


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
        self._remembered: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def close(self) -> None:
        self.http.close()

    def same_origin(self, path_or_url: str) -> bool:
        parts = urlsplit(path_or_url)
        return not parts.scheme or (parts.scheme, parts.netloc) == self.origin

    def request(self, method: str, path_or_url: str, **kwargs) -> httpx.Response:
        """Send a request, retrying where safe (see the module's docstring); raise APIError for 4xx/5xx."""
        method = method.upper()
        headers = {name.lower(): value for name, value in (kwargs.pop("headers", None) or {}).items()}
        if self.token and self.same_origin(path_or_url):
            headers["authorization"] = f"Token {self.token}"
            if method == "POST":
                headers.setdefault("idempotency-key", str(uuid.uuid4()))
        retryable = method in IDEMPOTENT or "idempotency-key" in headers
        attempt = 0
        while True:
            attempt += 1
            may_retry = retryable and attempt <= self.retries
            try:
                self.request_count += 1
                response = self.http.request(method, path_or_url, headers=headers, **kwargs)
            except httpx.UnsupportedProtocol:
                raise ConnectionFailed(
                    f"{self.base_url} is not a URL appctl can use: it must start with http:// or https://."
                ) from None
            except httpx.TransportError as error:
                if not may_retry:
                    raise ConnectionFailed(_unreachable(self.base_url, error)) from None
                time.sleep(_backoff(attempt))
                continue
            wait = _retry_wait(response, attempt) if may_retry else None
            if wait is None:
                break
            response.close()
            time.sleep(wait)
        if response.is_error:
            raise self._error(response, method)
        return response

    def _error(self, response: httpx.Response, method: str) -> APIError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500] or response.reason_phrase
        return error_for(
            response.status_code,
            body,
            method,
            str(response.url),
            response.headers.get("x-request-id"),
            retry_after=_seconds(response.headers.get("retry-after")),
        )

    def get_json(self, path: str, params: dict | None = None):
        """GET a JSON body; a read made before sends its ETag and re-uses the body on 304."""
        key = str(self.http.build_request("GET", path, params=params).url)
        remembered = self._remembered.get(key)
        headers = {"if-none-match": remembered[0]} if remembered else None
        response = self.request("GET", path, params=params, headers=headers)
        if response.status_code == 304 and remembered:
            self._remembered.move_to_end(key)
            return json.loads(remembered[1])
        etag = response.headers.get("etag")
        if etag:
            self._remembered[key] = (etag, response.content)
            self._remembered.move_to_end(key)
            while len(self._remembered) > REMEMBERED_BODIES:
                self._remembered.popitem(last=False)
        return response.json()

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


def _retry_wait(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying this answer, or None not to retry it."""
    retry_after = _seconds(response.headers.get("retry-after"))
    # 409 with Retry-After: the first try of this Idempotency-Key is still running on the server.
    if response.status_code not in RETRY_STATUSES and not (response.status_code == 409 and retry_after is not None):
        return None
    if retry_after is None:
        return _backoff(attempt)
    return retry_after if retry_after <= MAX_RETRY_AFTER else None


def _seconds(retry_after: str | None) -> float | None:
    """`Retry-After` as seconds: it is either a number of seconds or an HTTP date."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _backoff(attempt: int) -> float:
    """0.2 s, 0.4 s, 0.8 s … up to 5 s, with jitter so that many clients do not retry in step."""
    return min(5.0, 0.2 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311 - not for security


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
