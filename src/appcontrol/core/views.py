from django.http import JsonResponse
from django.shortcuts import redirect
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


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIXES):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def bad_request(request, exception=None):
    # Django's answer to a request it refuses before any view (a Host header not allowed, for one).
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def csrf_failure(request, reason=""):
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "CSRF check failed."}, status=403)
    from django.views.csrf import csrf_failure as html_csrf_failure

    return html_csrf_failure(request, reason)


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
