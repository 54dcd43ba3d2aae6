from django.urls import re_path

from appcontrol.core.routers import ApiRouter
from appcontrol.core.views import api_not_found

from .views import CurrentUserView, OrganisationViewSet

router = ApiRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")

urlpatterns = [
    re_path(r"^me/?$", CurrentUserView.as_view(), name="me"),
    *router.urls,
    re_path(r"^.*$", api_not_found),
]
