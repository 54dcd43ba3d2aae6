"""API rate limits: requests a minute per account (its tokens for one organisation, or its unrestricted
tokens, share a budget), and per client address (IPv6: per /64) for requests without a valid token. Every
API response says where its caller stands (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`:
the fields of the IETF draft, the reset in seconds); a request over the limit is answered 429 with
`Retry-After` and does not reach its view.

The window is fixed: a minute from the first request counted in it. The counter is shared by every server
process (core.counters). If the counter cannot be reached (Redis down, SQLite's write lock held too long),
requests are served without counting (logged): an outage of the counter must not become one of the API.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import JsonResponse

from appcontrol.core.client_address import client_key
from appcontrol.core.counters import counters
from appcontrol.core.verification import StaleCaller

from .authentication import token_rate_limit

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    limit: int
    used: int
    resets_in: int

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "RateLimit-Reset": str(self.resets_in),
        }


def quota_consume(request, caller) -> Quota | None:
    """Count this request; None when no limit applies."""
    if caller is not None:
        user, token = caller
        # An account's tokens for one scope share their budget: more tokens are not more requests.
        scope = token.organisation_id.hex if token.organisation_id else "all"
        key, limit = f"rate:account:{user.pk.hex}:{scope}", token_rate_limit(token)
    else:
        key, limit = f"rate:address:{client_key(request)}", settings.APPCONTROL_RATE_LIMIT_ANONYMOUS
    if not limit:
        return None
    try:
        window = counters().hit(key, WINDOW_SECONDS)
    except StaleCaller:
        raise  # the counter was not written: the caller it was for is not current (`accounts.caller_cache`)
    except Exception:  # noqa: BLE001 - see the module's docstring
        logger.exception("Rate limit counter unavailable; serving without counting")
        return None
    return Quota(limit=limit, used=window.count, resets_in=window.resets_in(window.last_at))


def too_many_requests(quota: Quota, caller) -> JsonResponse:
    who = "this token" if caller is not None else "your address without a valid token"
    wait = max(1, quota.resets_in)
    response = JsonResponse(
        {"detail": f"Rate limit exceeded: {quota.limit} requests a minute for {who}. Try again in {wait} s."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response
