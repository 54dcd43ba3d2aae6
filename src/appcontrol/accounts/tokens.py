"""The token format and its hashing, in one place.

A token reads `apc_<43 url-safe characters>` (256 random bits). The `apc_` prefix lets secret
scanners recognise a leaked token; the first 12 characters are stored in clear to find the row and
to name the token in lists; the whole token is stored only as a SHA-256 digest. A slow password
hash is not needed: the token is random, not chosen by a person, so it cannot be guessed from its digest.
"""

import hashlib
import hmac
import secrets

TOKEN_MARKER = "apc_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = 12


def generate_token() -> str:
    return TOKEN_MARKER + secrets.token_urlsafe(32)


def token_prefix(token: str) -> str:
    return token[:PREFIX_LENGTH]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digest_matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(token_digest(token), stored_digest)
