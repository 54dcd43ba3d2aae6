"""The base every API viewset builds on: base32 lookups and querysets scoped to the caller."""

from rest_framework import viewsets
from rest_framework.exceptions import NotFound

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
        return super().get_object()


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
