from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins

from appcontrol.accounts.selectors import visible
from appcontrol.core.schema import operation_ids
from appcontrol.core.viewsets import ApiViewSet

from ..filtersets import ApplicationActivityFilterSet
from ..models import ApplicationActivity
from .serializers import ApplicationActivitySerializer


@extend_schema_view(**operation_ids("ApplicationActivity", "ApplicationActivities", ["list", "retrieve"]))
class ApplicationActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """What happened in your organisations' applications, newest first: every change made through the API
    (and what the product did on its own, such as scheduled backups), who made it and with which token."""

    serializer_class = ApplicationActivitySerializer
    filterset_class = ApplicationActivityFilterSet

    def get_queryset(self):
        return visible(ApplicationActivity.objects, self.request, "organisation").select_related("user")
