from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from appcontrol.core.events import publish

from .caller_cache import remembered, verification
from .models import AccessToken
from .token_lookup import looked_up
from .tokens import PREFIX_LENGTH, TOKEN_MARKER, digest_matches, token_prefix

KEYWORDS = (b"token", b"bearer")


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` (or `Bearer`); the keyword is case-insensitive."""

    def authenticate(self, request, *, remember: bool = False):
        # The API's middleware has already authenticated this request (to count it against the account's
        # rate limit): one lookup a request, whatever its outcome.
        django_request = getattr(request, "_request", request)
        if hasattr(django_request, "api_caller"):
            if django_request.api_auth_failure is not None:
                raise django_request.api_auth_failure  # an invalid token is looked up once, not twice
            return django_request.api_caller
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected `Token <token>`.")
        try:
            clear = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_token(clear, remember=remember)

    def authenticate_token(self, clear: str, *, remember: bool = False):
        """(user, token) for a valid token, else AuthenticationFailed. With `remember`, a caller this process
        looked up before may be taken from memory: the token then has `owed_verification` (`caller_cache`),
        which the caller of this method must see through."""
        if not clear.startswith(TOKEN_MARKER) or len(clear) <= PREFIX_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid token.")
        prefix = token_prefix(clear)
        if remember:
            found = remembered.recall(prefix)
            token = None if found is None else found.caller()
            if token is not None and self._valid(clear, token) and not self._use_to_record(token):
                token.owed_verification = verification(prefix, found)
                return token.user, token
            # Not remembered, or not as it could be used without a check: looked up afresh.
        found = looked_up(prefix)
        token = None if found is None else found.caller()
        self._check(clear, token)
        # A use written down makes the token's row another version than the one looked up: remembered by the
        # next request's lookup instead.
        if not self._record_use(token) and remember and found.fingerprint is not None:
            remembered.remember(prefix, found)
        return token.user, token

    def _valid(self, clear: str, token: AccessToken) -> bool:
        try:
            self._check(clear, token)
        except exceptions.AuthenticationFailed:
            return False
        return True

    def _check(self, clear: str, token: AccessToken | None) -> None:
        if token is None or not digest_matches(clear, token.digest) or token.is_revoked:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")

    def _use_to_record(self, token: AccessToken) -> bool:
        """Whether this use of the token is to be written down (its first, or the first in a while)."""
        resolution = timedelta(seconds=settings.APPCONTROL_TOKEN_LAST_USED_RESOLUTION_SECONDS)
        return token.last_used_at is None or timezone.now() - token.last_used_at >= resolution

    def _record_use(self, token: AccessToken) -> bool:
        """Write down this use of the token if it is to be (`_use_to_record`); whether it was."""
        if not self._use_to_record(token):
            return False
        now = timezone.now()
        if token.last_used_at is None:
            # The row decides (a cached token may be stale): only one request is a new token's first use.
            if AccessToken.objects.filter(pk=token.pk, last_used_at__isnull=True).update(last_used_at=now):
                publish("token.first_used", token_id=token.pk, user_id=token.user_id)
        else:
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        return True

    def authenticate_header(self, request):
        return "Token"


def token_rate_limit(token: AccessToken) -> int:
    """Requests a minute allowed to this token (0: unlimited). An unrestricted token gets the lowest of its
    account's organisations' own limits (an organisation the operator slowed down is not escaped by a token
    for all of them); "no limit" (0) applies to tokens restricted to that organisation."""
    if token.organisation_id is not None:
        own = token.organisation.rate_limit
    else:
        own = getattr(token, "member_rate_limit", None)
    return settings.APPCONTROL_RATE_LIMIT if own is None else own
