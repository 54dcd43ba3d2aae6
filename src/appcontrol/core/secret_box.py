"""Secrets the server must read back later (deploy keys, git passwords), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`. The keys come from `APPCONTROL_SECRETS_KEY`: any
strings, each stretched with HKDF-SHA256 into a Fernet key. The first encrypts; every one decrypts, so a key
is rotated by putting the new one first and keeping the old one as long as rows encrypted with it exist.
Without the setting the key derives from Django's SECRET_KEY: a database
dump alone then reveals nothing.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Another use of the same SECRET_KEY (sessions, signed links) never yields this key.
HKDF_INFO = b"appcontrol secret box v1"


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


@functools.cache
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def _current() -> MultiFernet:
    return _box(tuple(settings.APPCONTROL_SECRETS_KEY))


def encrypt(plain: str) -> str:
    """The token to store for `plain` (ASCII; empty stays empty)."""
    if not plain:
        return ""
    return _current().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with APPCONTROL_SECRETS_KEY: was the key (or SECRET_KEY) changed "
            "without keeping the old one?"
        ) from None
