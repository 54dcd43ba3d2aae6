"""Password logins through the throttle of accounts.login_throttle (login page and admin alike)."""

import logging

from django.contrib.auth.backends import ModelBackend

from .login_throttle import LoginAttempt

logger = logging.getLogger(__name__)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:  # the operator's own code and commands: nothing to throttle
            return super().authenticate(request, username, password, **kwargs)
        attempt = LoginAttempt.of(request, username or kwargs.get("email") or "")
        try:
            if not attempt.begin():
                request.login_wait_seconds = 1  # another attempt of this client is running
                return None
        except Exception:  # noqa: BLE001 - the counters are down: log in unthrottled rather than not at all
            logger.exception("Login throttle unavailable; checking the password without it")
            return super().authenticate(request, username, password, **kwargs)
        try:
            wait = attempt.wait_seconds()
            if wait:
                request.login_wait_seconds = wait  # the form says so instead of "wrong password"
                return None
            user = super().authenticate(request, username, password, **kwargs)
            if user is None:
                attempt.failed()
            else:
                request.login_device_cookie = attempt.succeeded()
            return user
        finally:
            attempt.end()
