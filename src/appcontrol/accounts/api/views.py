from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins

from appcontrol.core.filtersets import FilterSet
from appcontrol.core.viewsets import ApiViewSet

from ..models import Membership, Organisation
from ..selectors import visible_organisations
from .serializers import CurrentUserSerializer, OrganisationSerializer


@extend_schema_view(get=extend_schema(operation_id="GetCurrentUser"))
class CurrentUserView(generics.RetrieveAPIView):
    """The account the token belongs to."""

    serializer_class = CurrentUserSerializer

    def get_object(self):
        return self.request.user


class OrganisationFilterSet(FilterSet):
    class Meta:
        model = Organisation
        fields = ["slug"]


@extend_schema_view(
    list=extend_schema(operation_id="ListOrganisations"),
    retrieve=extend_schema(operation_id="GetOrganisation"),
)
class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Organisations you belong to (only the token's organisation when the token is restricted to one),
    with your role in each."""

    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilterSet

    def get_queryset(self):
        caller_role = Membership.objects.filter(organisation=OuterRef("pk"), user_id=self.request.user.pk).values(
            "role"
        )[:1]
        return visible_organisations(self.request).annotate(caller_role=Subquery(caller_role))
