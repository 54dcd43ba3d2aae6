"""Everything under /apps/v3/: one router that each part of the domain registers its viewsets on."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView

from appcontrol.activities.api.urls import register as register_activities
from appcontrol.applications.api.urls import register as register_applications
from appcontrol.applications.api.urls import register_billing, register_legacy
from appcontrol.backups import link_views
from appcontrol.backups.api.urls import register as register_backups
from appcontrol.core.docs import RedocView, SwaggerView
from appcontrol.core.routers import ApiRouter
from appcontrol.core.upcoming import upcoming_collection
from appcontrol.core.views import ApiRootView, api_not_found
from appcontrol.deployments.api.urls import register as register_deployments
from appcontrol.services.api.urls import register as register_services

router = ApiRouter()
register_applications(router)
router.register("patches", upcoming_collection("Patches"), basename="patch")
register_services(router)
register_backups(router)
register_deployments(router)
register_activities(router)

urlpatterns = [
    re_path(r"^$", ApiRootView.as_view(), name="root"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", RedocView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^docs/swagger/?$", SwaggerView.as_view(url_name="api:schema"), name="swagger"),
    re_path(r"^artifacts/(?P<token>[^/]+)/?$", link_views.artifact_download, name="artifact-download"),
    re_path(r"^uploads/(?P<token>[^/]+)/?$", link_views.artifact_upload, name="artifact-upload"),
    re_path(
        r"^uploads/(?P<token>[^/]+)/finish/?$",
        link_views.artifact_upload_finish,
        name="artifact-upload-finish",
    ),
    *router.urls,
    re_path(r"^.*$", api_not_found),
]


def _other_prefix(register) -> list:
    """/billing/v3/ and /legacy/v3/: the few resources divio-cli reads there, beside the API."""
    other = ApiRouter()
    register(other)
    return [*other.urls, re_path(r"^.*$", api_not_found)]


billing_urlpatterns = _other_prefix(register_billing)
legacy_urlpatterns = _other_prefix(register_legacy)
