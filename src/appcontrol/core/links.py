"""Signed, expiring capability links (downloads, uploads): whoever holds the URL may use it, until
it expires. They carry no token header, so they must never accept or need one."""

from django.conf import settings
from django.core import signing


class LinkError(Exception):
    pass


def link_token(purpose: str, payload: dict) -> str:
    return signing.dumps(payload, salt=f"appcontrol.link.{purpose}", compress=True)


def link_payload(purpose: str, token: str) -> dict:
    try:
        return signing.loads(token, salt=f"appcontrol.link.{purpose}", max_age=settings.APPCONTROL_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise LinkError("This link has expired; ask the API for a new one.") from None
    except signing.BadSignature:
        raise LinkError("This link is not valid.") from None
