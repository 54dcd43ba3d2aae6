"""What every API request goes through before its view: its caller is identified once (the view's
authentication reuses it), counted against a rate limit, and a POST with an Idempotency-Key runs once."""

from rest_framework.exceptions import AuthenticationFailed

from appcontrol.core.actor import acting
from appcontrol.core.conditional import API_PREFIXES

from . import idempotency
from .authentication import AccessTokenAuthentication
from .rate_limits import quota_consume, too_many_requests


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        caller = _identify(request)
        quota = quota_consume(request, caller)
        with acting(*(caller or (None, None))):
            if quota is not None and quota.exceeded:
                response = too_many_requests(quota, caller)
            elif idempotency.applies(request, caller):
                response = idempotency.run_once(request, caller[1], self.get_response)
            else:
                response = self.get_response(request)
        if quota is not None:
            for name, value in quota.headers().items():
                response[name] = value
        return response


def _identify(request):
    """(user, token) for a valid token, else None; an invalid token is answered 401 by the view itself, with
    the failure kept here."""
    request.api_auth_failure = None
    try:
        caller = AccessTokenAuthentication().authenticate(request)
    except AuthenticationFailed as failure:
        caller, request.api_auth_failure = None, failure
    request.api_caller = caller
    return caller
