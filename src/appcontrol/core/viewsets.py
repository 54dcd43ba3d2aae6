"""The base every API viewset builds on: base32 lookups, querysets scoped to the caller, and If-Match."""

from rest_framework import viewsets
from rest_framework.exceptions import NotFound

from .conditional import check_if_match
from .ids import InvalidId, decode_id


class IdLookupMixin:
    # `{uuid}` in a path may be base32 or dashed; a malformed id is a plain 404.

    lookup_field = "pk"
    lookup_url_kwarg = "uuid"

    def get_object(self):
        try:
            self.kwargs[self.lookup_url_kwarg] = decode_id(self.kwargs[self.lookup_url_kwarg])
        except InvalidId:
            raise NotFound() from None
        found = super().get_object()
        if self.request.method in ("PUT", "PATCH", "DELETE"):
            # Compared with what a GET of this object answers: the serializer of every action but create.
            check_if_match(self.request, self.get_serializer(found).data)
        return found


class ApiViewSet(IdLookupMixin, viewsets.GenericViewSet):
    pass


class ApiModelViewSet(IdLookupMixin, viewsets.ModelViewSet):
    # `create_serializer_class` may add fields that are fixed once the object exists
    # (an application's organisation, an environment's application).
    create_serializer_class = None

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        return self.serializer_class
