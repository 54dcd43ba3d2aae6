"""One exception root for everything that can go wrong talking to the API."""


class AppctlError(Exception):
    """Root of appctl's exceptions."""


class ConfigurationError(AppctlError):
    """No server URL or no token could be found."""


class ConnectionFailed(AppctlError):
    """The server could not be reached (or not spoken to): refused, timed out, a TLS mismatch, a bad URL."""


class WaitTimeout(AppctlError):
    """A long operation did not finish in time."""


class ChecksumMismatch(AppctlError):
    """A downloaded file does not have the sha256 the server recorded."""


class APIError(AppctlError):
    """The server answered with an error status; `detail` is its message (or its whole JSON body)."""

    def __init__(self, status: int, detail, method: str, url: str, request_id: str | None = None):
        self.status = status
        self.detail = detail
        self.method = method
        self.url = url
        self.request_id = request_id
        super().__init__(f"{method} {url}: {status} {detail}")


class Unauthorized(APIError):
    """401: no token, or an unknown, expired or revoked one."""


class Forbidden(APIError):
    """403: the token is read-only, or the role does not allow the action."""


class NotFound(APIError):
    """404: no such object, or not visible to this token."""


class ValidationError(APIError):
    """400: the server rejected the input; `detail` maps fields to messages."""


class Conflict(APIError):
    """409: the object's state blocks the action (or a request with the same Idempotency-Key still runs)."""


class PreconditionFailed(APIError):
    """412: the object changed since it was read (`If-Match`)."""


class RateLimited(APIError):
    """429: too many requests; `retry_after` is how many seconds the server asked to wait."""

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


def error_for(
    status: int, body, method: str, url: str, request_id: str | None = None, retry_after: float | None = None
) -> APIError:
    detail = body.get("detail", body) if isinstance(body, dict) and set(body) == {"detail"} else body
    if status == 429:
        return RateLimited(status, detail, method, url, request_id, retry_after=retry_after)
    cls: type[APIError]
    if status >= 500:
        cls = ServerError
    else:
        cls = {
            400: ValidationError,
            401: Unauthorized,
            403: Forbidden,
            404: NotFound,
            409: Conflict,
            412: PreconditionFailed,
        }.get(status, APIError)
    return cls(status, detail, method, url, request_id)
