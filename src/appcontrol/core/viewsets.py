"""The base every API viewset builds on: base32 lookups, querysets scoped to the caller, If-Match, and list
rows serialized by fields built once."""

import threading

from rest_framework import serializers, viewsets
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


class ListRowsMixin:
    """A list's rows are serialized by fields built once per serializer class and thread.

    DRF builds a serializer's fields for every request (deep copies of the declared ones, the model's mapped
    to new instances): a fifth of a one-row lookup. Fields that only represent rows keep no state of their
    own between rows; what they read from the request goes through their serializer (`self.parent`, whose
    root holds the context), so a field built once is pointed at each request's serializer. Per thread,
    because a field's parent is set while it is used.
    """

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.request.method == "GET" and isinstance(serializer, serializers.ListSerializer):
            _reuse_fields(serializer.child)
        return serializer


_built_fields = threading.local()


def _reuse_fields(serializer) -> None:
    by_class = _built_fields.__dict__.setdefault("by_class", {})
    fields = by_class.get(type(serializer))
    if fields is None:
        by_class[type(serializer)] = serializer.fields  # built now, bound to this serializer
        return
    fields.serializer = serializer
    for field in fields.values():
        field.parent = serializer
    serializer.__dict__["fields"] = fields  # `Serializer.fields` is a cached property


class ApiViewSet(ListRowsMixin, IdLookupMixin, viewsets.GenericViewSet):
    pass


class ApiModelViewSet(ListRowsMixin, IdLookupMixin, viewsets.ModelViewSet):
    # `create_serializer_class` may add fields that are fixed once the object exists
    # (an application's organisation, an environment's application).
    create_serializer_class = None

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        return self.serializer_class
