"""What every API request goes through before its view: its caller is identified once (the view's
authentication reuses it; a read may take a remembered caller, verified as `caller_cache` says), counted
against a rate limit, and a POST with an Idempotency-Key runs once."""

import contextlib

from django.db import connection
from django.http import HttpResponse
from rest_framework.exceptions import AuthenticationFailed

from appcontrol.core.actor import acting
from appcontrol.core.conditional import API_PREFIXES
from appcontrol.core.verification import StaleCaller, State

from . import caller_cache, idempotency
from .authentication import AccessTokenAuthentication
from .rate_limits import quota_consume, too_many_requests


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        try:
            response, quota = self._answer(request, remember=caller_cache.applies(request))
        except StaleCaller:
            # The remembered caller is not the database's any more (revoked, deactivated, memberships changed):
            # the read is answered anew, as if nothing had been remembered.
            response, quota = self._answer(request, remember=False)
        if quota is not None:
            for name, value in quota.headers().items():
                response[name] = value
        return response

    def _answer(self, request, *, remember: bool):
        """(response, quota) for the request; StaleCaller if its caller was remembered but is not current.
        Such a caller is verified before any statement but its page's runs (a counter in the database is
        written only once it is), and before the response is given back."""
        caller = _identify(request, remember=remember)
        verification = request.caller_verification
        with connection.execute_wrapper(verification) if verification else contextlib.nullcontext():
            quota = quota_consume(request, caller)
            with acting(*(caller or (None, None))):
                if quota is not None and quota.exceeded:
                    response = too_many_requests(quota, caller)
                elif idempotency.applies(request, caller):
                    response = idempotency.run_once(request, caller[1], self.get_response)
                else:
                    response = self.get_response(request)
        if verification is not None:
            # Not given back if stale (nor closed: closing a response ends the request and its connection).
            verification.verify()  # if nothing the request did has verified it yet: StaleCaller if stale
            if isinstance(response, _AnswerAnew) or verification.state is not State.VERIFIED:
                raise StaleCaller()  # stale, and the view carried on regardless
        return response, quota

    def process_exception(self, request, exception):
        # Raised inside a view, StaleCaller would become a 500 on its way out: it is turned into a response
        # that `_answer` recognises, and the request is answered anew.
        if isinstance(exception, StaleCaller):
            return _AnswerAnew()
        return None


class _AnswerAnew(HttpResponse):
    """Stands for StaleCaller raised by a view, on its way back to the middleware that answers anew."""


def _identify(request, *, remember: bool):
    """(user, token) for a valid token, else None; an invalid token is answered 401 by the view itself, with
    the failure kept here. A remembered caller leaves its verification in `request.caller_verification`."""
    request.api_auth_failure = request.caller_verification = None
    if hasattr(request, "api_caller"):
        del request.api_caller  # answered anew: authenticate() would give the same caller again
    try:
        caller = AccessTokenAuthentication().authenticate(request, remember=remember)
    except AuthenticationFailed as failure:
        caller, request.api_auth_failure = None, failure
    request.api_caller = caller
    if caller is not None:
        request.caller_verification = getattr(caller[1], "owed_verification", None)
    return caller
