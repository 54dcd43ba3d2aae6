"""Ids on the wire: UUIDs written as 26 lower-case base32 characters, as the apps/v3 API does.

`bagztldeadfdhlilnmpzx3twly` is RFC 4648 base32 of the UUID's 16 bytes, without padding.
Paths and filters also accept the dashed (or plain hex) form, so ids copied from anywhere work.
"""

import base64
import re
import uuid

BASE32_ID_PATTERN = r"[a-z2-7]{26}"
_BASE32_RE = re.compile(rf"^{BASE32_ID_PATTERN}$", re.IGNORECASE)
_HEX_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)


class InvalidId(ValueError):
    pass


def encode_id(value: uuid.UUID) -> str:
    return base64.b32encode(value.bytes).decode("ascii").rstrip("=").lower()


def decode_id(text: str) -> uuid.UUID:
    """Parse a base32 or dashed id; raise InvalidId for anything else."""
    if not isinstance(text, str):
        raise InvalidId("An id must be a string.")
    text = text.strip()
    if _BASE32_RE.match(text):
        value = uuid.UUID(bytes=base64.b32decode(text.upper() + "======"))
        # 26 characters carry 130 bits: reject spellings whose 2 spare bits are set, so one
        # UUID has exactly one base32 form.
        if encode_id(value) != text.lower():
            raise InvalidId(f"{text!r} is not a valid id.")
        return value
    if _HEX_RE.match(text):
        return uuid.UUID(text)
    raise InvalidId(f"{text!r} is not a valid id.")


def new_id() -> uuid.UUID:
    return uuid.uuid4()
