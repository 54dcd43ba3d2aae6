"""One exception root for every failed API call."""


class APIError(Exception):
    """The server answered with an error status; `detail` is its message (or its whole JSON body)."""

    def __init__(self, status: int, detail, method: str, url: str):
        self.status = status
        self.detail = detail
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: {status} {detail}")


class Unauthorized(APIError):
    """401: no token, or an unknown, expired or revoked one."""


class Forbidden(APIError):
    """403: the token is read-only, or the role does not allow the action."""


class NotFound(APIError):
    """404: no such object, or not visible to this token."""


class ValidationError(APIError):
    """400: the server rejected the input; `detail` maps fields to messages."""


_BY_STATUS = {400: ValidationError, 401: Unauthorized, 403: Forbidden, 404: NotFound}


def error_for(status: int, body, method: str, url: str) -> APIError:
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return _BY_STATUS.get(status, APIError)(status, detail, method, url)
