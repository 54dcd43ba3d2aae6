from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import AccessToken
from .tokens import PREFIX_LENGTH, TOKEN_MARKER, digest_matches, token_prefix

KEYWORDS = (b"token", b"bearer")


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` (or `Bearer`); the keyword is case-insensitive."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected `Token <token>`.")
        try:
            clear = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_token(clear)

    def authenticate_token(self, clear: str):
        if not clear.startswith(TOKEN_MARKER) or len(clear) <= PREFIX_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = AccessToken.objects.select_related("user").filter(prefix=token_prefix(clear)).first()
        if token is None or not digest_matches(clear, token.digest) or token.is_revoked:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        self._record_use(token)
        return token.user, token

    def _record_use(self, token: AccessToken) -> None:
        now = timezone.now()
        resolution = timedelta(seconds=settings.APPCONTROL_TOKEN_LAST_USED_RESOLUTION_SECONDS)
        if token.last_used_at is None or now - token.last_used_at >= resolution:
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now

    def authenticate_header(self, request):
        return "Token"
