"""The API's JSON, indented when a browser asks (people read it there), compact for every other client."""

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    def get_indent(self, accepted_media_type, renderer_context):
        request = (renderer_context or {}).get("request")
        if request is not None and "text/html" in request.META.get("HTTP_ACCEPT", ""):
            return 2
        return super().get_indent(accepted_media_type, renderer_context)
