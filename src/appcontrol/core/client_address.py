"""Who a request came from, for limits counted per client address."""

import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)
_warned_about_proxies = False


def client_address(request) -> str:
    """The connection's address; behind `APPCONTROL_PROXY_HOPS` trusted proxies, the address the farthest
    of them saw (each proxy appends to X-Forwarded-For, so only the last hops are trustworthy: a client
    can write anything before them)."""
    hops = settings.APPCONTROL_PROXY_HOPS
    forwarded_header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops:
        forwarded = [part.strip() for part in forwarded_header.split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]  # an address is shorter; a counter key has room for this much
    elif forwarded_header:
        _warn_once_about_a_proxy()
    return request.META.get("REMOTE_ADDR") or "unknown"


def client_key(request) -> str:
    """The client as limits count it: its address, or for IPv6 its /64 network (one subscriber's share:
    counting single IPv6 addresses would give anyone with a network of their own unlimited addresses)."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def _warn_once_about_a_proxy() -> None:
    # Behind a proxy with APPCONTROL_PROXY_HOPS=0, every client shares the proxy's address, and so its limits.
    global _warned_about_proxies
    if not _warned_about_proxies:
        _warned_about_proxies = True
        logger.warning(
            "Requests carry X-Forwarded-For but APPCONTROL_PROXY_HOPS is 0: every client behind the proxy is "
            "counted as the proxy's address. Set APPCONTROL_PROXY_HOPS to the number of proxies in front."
        )
