"""ETags: a client that polls sends `If-None-Match` and gets `304 Not Modified` with no body when nothing
changed; a client that writes sends `If-Match` and gets `412 Precondition Failed` when the object changed
since it read it (so two people editing one object cannot silently overwrite each other).

An ETag is a digest of the compact JSON of the representation, whichever way it was rendered (browsers
get it indented), so the ETag read from a detail page is what `If-Match` compares with.
"""

import hashlib

from django.http import HttpResponseNotModified
from rest_framework import status
from rest_framework.exceptions import APIException

from .renderers import JSONRenderer, wants_indentation

API_PREFIXES = ("/apps/", "/iam/", "/billing/", "/legacy/")  # what the API's middleware applies to
_COMPACT = JSONRenderer()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_of_data(data) -> str:
    return etag_of(_COMPACT.render(data))


def _listed(header: str) -> set[str]:
    """The entity tags of an If-Match or If-None-Match header (`W/` kept: If-Match compares strongly)."""
    return {tag.strip() for tag in header.split(",") if tag.strip()}


class ConditionalGetMiddleware:
    """ETag on every successful GET of the API; 304 when it matches `If-None-Match`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.streaming
            or not hasattr(response, "data")
            or not request.path_info.startswith(API_PREFIXES)
        ):
            return response
        renderer = getattr(response, "accepted_renderer", None)
        indented = wants_indentation(request) or "indent" in (getattr(response, "accepted_media_type", "") or "")
        if isinstance(renderer, JSONRenderer) and indented:
            etag = etag_of_data(response.data)  # the compact form's tag, which If-Match compares with
        else:
            etag = etag_of(response.content)
        response["ETag"] = etag
        wanted = _listed(request.META.get("HTTP_IF_NONE_MATCH", ""))
        # If-None-Match compares weakly: W/"x" matches "x".
        if "*" in wanted or etag in {tag.removeprefix("W/") for tag in wanted}:
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Vary", "Cache-Control"):
                if header in response:
                    not_modified[header] = response[header]
            return not_modified
        return response


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The object has changed since you read it (If-Match does not match its ETag): read it again, then retry."
    )
    default_code = "precondition_failed"


def check_if_match(request, representation) -> None:
    """Raise 412 unless the request's If-Match (if any) names the current representation's ETag."""
    header = request.META.get("HTTP_IF_MATCH")
    if header is None:
        return
    wanted = _listed(header)
    if "*" in wanted:
        return
    if etag_of_data(representation) not in wanted:
        raise PreconditionFailed()
