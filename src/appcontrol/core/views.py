from django.http import JsonResponse
from django.shortcuts import redirect
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .serializers import ApiRootSerializer

API_PREFIXES = ("/apps/", "/iam/", "/billing/", "/legacy/")


def api_not_found(request, *args, **kwargs):
    """Unknown paths under the API answer in JSON like the rest of it."""
    return JsonResponse({"detail": "Not found."}, status=404)


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIXES):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


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
