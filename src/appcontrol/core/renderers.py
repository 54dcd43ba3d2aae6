"""The API's JSON, indented when a browser asks (people read it there), compact for every other client."""

from rest_framework import renderers


def wants_indentation(request) -> bool:
    return request is not None and "text/html" in request.META.get("HTTP_ACCEPT", "")


class JSONRenderer(renderers.JSONRenderer):
    def get_indent(self, accepted_media_type, renderer_context):
        if wants_indentation((renderer_context or {}).get("request")):
            return 2
        return super().get_indent(accepted_media_type, renderer_context)
