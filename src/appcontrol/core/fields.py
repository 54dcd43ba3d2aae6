"""Serializer and filter fields that speak base32 ids."""

from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS, ManyRelatedField, PKOnlyObject

from .ids import BASE32_ID_PATTERN, InvalidId, decode_id, encode_id
from .sql_compiler import ids_attribute

ID_SCHEMA = {
    "type": "string",
    "pattern": f"^{BASE32_ID_PATTERN}$",
    "example": "bagztldeadfdhlilnmpzx3twly",
}
ID_INPUT_SCHEMA = {
    "type": "string",
    "description": "An id: 26 base32 characters, or the dashed UUID form.",
    "example": "bagztldeadfdhlilnmpzx3twly",
}


@extend_schema_field(ID_SCHEMA)
class IdField(serializers.Field):
    """The object's own id, read-only."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return encode_id(value)


# No list in a request body names more objects than this: each costs a query, and no environment has
# nearly so many service instances.
MAX_LIST_ITEMS = 100


class BoundedManyRelatedField(ManyRelatedField):
    """A list of related ids refused as a whole when longer than MAX_LIST_ITEMS, before any lookup."""

    default_error_messages = {"too_many": f"Name at most {MAX_LIST_ITEMS} objects."}

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > MAX_LIST_ITEMS:
            self.fail("too_many")
        return super().to_internal_value(data)

    def get_attribute(self, instance):
        # Ids the row's own statement read along (sql_compiler.ids_along), else the relation (prefetched).
        ids = getattr(instance, ids_attribute(self.source), None)
        if ids is not None:
            return [PKOnlyObject(pk) for pk in ids]
        return super().get_attribute(instance)


@extend_schema_field(ID_SCHEMA)
class RelatedIdField(serializers.PrimaryKeyRelatedField):
    """A foreign key written as a base32 id; unknown and unreachable objects read the same."""

    default_error_messages = {
        "does_not_exist": "No object with id {pk_value!s} exists or is visible to you.",
        "incorrect_type": "Expected an id string, received {data_type}.",
        "invalid": "{value!s} is not a valid id.",
    }

    def __init__(self, scope=None, **kwargs):
        # `scope(request)` narrows the choices to what the caller may see, so another
        # organisation's object reads exactly like one that does not exist.
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        if self.scope is not None:
            return self.scope(self.context["request"])
        return super().get_queryset()

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = decode_id(data)
        except InvalidId:
            self.fail("invalid", value=data)
        queryset = self.get_queryset()
        try:
            return queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", pk_value=data)

    def to_representation(self, value):
        return encode_id(value.pk)

    def use_pk_only_optimization(self):
        return True

    @classmethod
    def many_init(cls, *args, **kwargs):
        # As DRF's own, with a bounded list field.
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS})
        return BoundedManyRelatedField(**list_kwargs)


class IdFormField(forms.Field):
    default_error_messages = {"invalid": "Enter a valid id."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return decode_id(value)
        except InvalidId:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class IdListFormField(forms.Field):
    """A filter that may repeat: `?uuid=a&uuid=b`."""

    widget = QueryArrayWidget
    default_error_messages = {"invalid": "Enter valid ids."}

    def to_python(self, value):
        if not value:
            return []
        try:
            return [decode_id(item) for item in value if item]
        except InvalidId:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(ID_INPUT_SCHEMA)
class IdFilter(filters.Filter):
    """Exact match on an id field, accepting base32 and dashed ids; a malformed one is a 400."""

    field_class = IdFormField


@extend_schema_field({"type": "array", "items": ID_INPUT_SCHEMA})
class IdListFilter(filters.Filter):
    field_class = IdListFormField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time moved to UTC, because PostgreSQL rejects offsets that Python accepts (e.g.
    +22:38); a moment that UTC cannot hold (0001-01-01T00:00+01:00) is invalid input."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError("This date-time is outside the range the server can store.") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
