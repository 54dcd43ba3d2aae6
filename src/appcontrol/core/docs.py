"""The API's reference pages (Redoc, Swagger UI), served with everything they need from this server.

A Content-Security-Policy keeps the browser from fetching anything elsewhere (Redoc's footer would load its
maker's logo from a CDN): the pages work offline and tell no third party who reads them.
"""

from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

# Redoc and Swagger UI inject inline styles and scripts, and Redoc runs its search in a blob: worker.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; frame-ancestors 'none'"
)


def same_origin_only(view):
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = POLICY
        return response

    return wrapped


@method_decorator(same_origin_only, name="dispatch")
class RedocView(SpectacularRedocView):
    pass


@method_decorator(same_origin_only, name="dispatch")
class SwaggerView(SpectacularSwaggerView):
    pass
