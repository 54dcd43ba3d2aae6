"""Everything under /apps/v3/: one router that each part of the domain registers its viewsets on."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from appcontrol.applications.api.urls import register as register_applications
from appcontrol.core.routers import ApiRouter
from appcontrol.core.upcoming import upcoming_collection
from appcontrol.core.views import ApiRootView, api_not_found

router = ApiRouter()
register_applications(router)
router.register("patches", upcoming_collection("Patches"), basename="patch")
router.register("repositories", upcoming_collection("Repositories"), basename="repository")
router.register("service-instances", upcoming_collection("Service Instances"), basename="service-instance")
# The name the 2022 API root used; the same collection, kept out of the schema to avoid a twin.
router.register(
    "serviceinstances", upcoming_collection("Service Instances", in_schema=False), basename="serviceinstance"
)
router.register("deployments", upcoming_collection("Deployments"), basename="deployment")
router.register("builds", upcoming_collection("Builds"), basename="build")

urlpatterns = [
    re_path(r"^$", ApiRootView.as_view(), name="root"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^docs/swagger/?$", SpectacularSwaggerView.as_view(url_name="api:schema"), name="swagger"),
    *router.urls,
    re_path(r"^.*$", api_not_found),
]
