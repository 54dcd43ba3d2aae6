"""The address of the client a request came from, for limits counted per address."""

from django.conf import settings


def client_address(request) -> str:
    """The connection's address; behind `APPCONTROL_PROXY_HOPS` trusted proxies, the address the farthest
    of them saw (each proxy appends to X-Forwarded-For, so only the last hops are trustworthy: a client
    can write anything before them)."""
    hops = settings.APPCONTROL_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]  # an address is shorter; a counter key has room for this much
    return request.META.get("REMOTE_ADDR") or "unknown"
