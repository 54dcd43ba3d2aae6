"""Every error of the API is a JSON body: DRF's own shape for 4xx, `{"detail": …}` otherwise."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "payload_too_large"


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
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
