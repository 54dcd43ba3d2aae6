"""Collections named in the apps/v3 root that this server version does not manage yet.

They answer like any other list (authenticated, paginated, JSON) with no items, so scripts and
clients that walk the root never meet a 404 or a 500.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from .fields import IdField
from .viewsets import ApiViewSet


class UpcomingItemSerializer(serializers.Serializer):
    uuid = IdField()


def upcoming_collection(plural: str) -> type[ApiViewSet]:
    name = plural.title().replace(" ", "")

    @extend_schema(
        operation_id=f"List{name}",
        description=f"This server version has no {plural.lower()} yet: the list is always empty.",
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset([])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    return type(
        f"{name}ViewSet",
        (ApiViewSet,),
        {"serializer_class": UpcomingItemSerializer, "filter_backends": [], "list": list},
    )
