"""Every error of the API is a JSON body: DRF's own shape for 4xx, `{"detail": …}` otherwise."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .verification import StaleCaller

logger = logging.getLogger(__name__)


class ActionError(Exception):
    """A business rule refused an action. Every service function raises this (or a subclass), and the API
    answers it in one shape: `{"<field>": ["<message>"]}` (`non_field_errors` when no field is at fault),
    with 400 for input at fault and 409 when the state of an object blocks the action."""

    status = 400

    def __init__(self, message: str, field: str = "non_field_errors", status: int | None = None):
        super().__init__(message)
        self.field = field
        if status is not None:
            self.status = status


class NotAllowed(ActionError):
    """The caller's role does not allow the action: 403 with `{"detail": …}`, as the permission checks say."""

    status = 403


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "payload_too_large"


def api_exception_handler(exc, context):
    if isinstance(exc, StaleCaller):
        return None  # not an error: DRF raises it on, and the API's middleware answers the request anew
    if isinstance(exc, ActionError):
        exc = _action_error(exc)
    elif isinstance(exc, Http404):
        # Django's message names the model ("No Organisation matches…"); the API says less.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        # A model constraint that a serializer did not check first is still the client's input.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DataError):
        # A value the serializer let through but the database cannot store or compare.
        exc = exceptions.ValidationError({"non_field_errors": ["A value is out of range for the database."]})
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, IntegrityError):
        # Two requests raced past the serializer's uniqueness check.
        exc = exceptions.ValidationError({"non_field_errors": ["This conflicts with an existing object."]})
    response = exception_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
    return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _action_error(error: ActionError) -> exceptions.APIException:
    if isinstance(error, NotAllowed):
        return exceptions.PermissionDenied(str(error))
    answer = exceptions.ValidationError({error.field: [str(error)]})
    answer.status_code = error.status
    return answer
