from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .conditional import API_PREFIXES
from .serializers import ApiRootSerializer


@csrf_exempt  # the API authenticates by token, never by cookie; an unknown path is a 404 whatever the method
def api_not_found(request, *args, **kwargs):
    """Unknown paths under the API answer in JSON like the rest of it."""
    return JsonResponse({"detail": "Not found."}, status=404)


def _json_under_the_api(request, status: int, detail: str, html_view, *args):
    """The API answers in JSON whatever refused the request; other pages keep Django's HTML."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": detail}, status=status)
    return html_view(request, *args)


def not_found(request, exception=None):
    return _json_under_the_api(request, 404, "Not found.", defaults.page_not_found, exception)


def bad_request(request, exception=None):
    # Django's answer to a request it refuses before any view (a Host header not allowed, for one).
    return _json_under_the_api(request, 400, "Bad request.", defaults.bad_request, exception)


def server_error(request):
    return _json_under_the_api(request, 500, "Internal server error.", defaults.server_error)


def csrf_failure(request, reason=""):
    return _json_under_the_api(request, 403, "CSRF check failed.", csrf.csrf_failure, reason)


def home(request):
    return redirect("accounts:access-tokens")


class ApiRootView(APIView):
    """The map of every apps/v3 collection to its absolute URL; needs no token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=ApiRootSerializer, operation_id="GetApiRoot", auth=[])
    def get(self, request):
        # The routes match with or without the slash; reversing drops it, the canonical URL has it.
        urls = {
            key: reverse(url_name, request=request).rstrip("/") + "/"
            for key, url_name in ApiRootSerializer.URL_NAMES.items()
        }
        return Response(ApiRootSerializer(urls).data)
