"""The base of every list's filters: django-filter's declarations, validated without building a form.

django-filter validates a request's filters by building a Django form class for each request, deep-copying
every filter and every form field into it, and running the form (about a sixth of a lookup such as
`?slug=`). The filters' form fields hold no per-request state, so here they are made once per filter set
class and each one cleans its own value; errors keep the form's shape (`{"slug": ["..."]}`, 400).
"""

import copy

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django_filters import filters as django_filters
from django_filters import rest_framework as filters

from .narrowing import narrowed


class FilterSet(filters.FilterSet):
    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # As django-filter's, without its deep copy of every filter: the filters are shared and only read,
        # but one with a `method` calls back into its filter set (`parent`), so it gets a copy of its own.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data if data is not None else QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, filter_ in self.base_filters.items():
            if filter_.method:
                filter_ = copy.copy(filter_)
                filter_.model, filter_.parent = queryset.model, self
                filter_.method = filter_.method  # its FilterMethod calls this copy, not the shared filter
            self.filters[name] = filter_

    @classmethod
    def form_fields(cls) -> list[tuple[str, forms.Field]]:
        # One set of form fields a class (`filter.field` builds a new one on each filter copy).
        if "_form_fields" not in cls.__dict__:
            for filter_ in cls.base_filters.values():
                filter_.model = cls._meta.model  # for the fields' labels, as django-filter sets it
            cls._form_fields = [(name, filter_.field) for name, filter_ in cls.base_filters.items()]
        return cls._form_fields

    def _clean(self) -> None:
        self._cleaned, self._errors = {}, ErrorDict()
        if not self.is_bound:
            return
        for name, field in self.form_fields():
            raw = field.widget.value_from_datadict(self.data, {}, name)
            try:
                self._cleaned[name] = field.clean(raw)
            except forms.ValidationError as error:
                self._errors[name] = ErrorList(error.error_list)

    def is_valid(self):
        return self.is_bound and not self.errors

    @property
    def errors(self):
        if not hasattr(self, "_errors"):
            self._clean()
        return self._errors

    def filter_queryset(self, queryset):
        self.errors  # noqa: B018 (cleans the values)
        conditions = []  # (lookup, value) of filters that would just call `filter(lookup=value)`, in order
        for name, value in self._cleaned.items():
            filter_ = self.filters[name]
            if _is_plain(filter_, value):
                if value not in django_filters.EMPTY_VALUES:
                    conditions.append((f"{filter_.field_name}__{filter_.lookup_expr}", value))
                continue
            queryset = filter_.filter(narrowed(queryset, conditions), value)
            conditions = []
        return narrowed(queryset, conditions)


def _is_plain(filter_, value) -> bool:
    """Whether the filter, given this value, does nothing but `filter(<field>__<lookup>=value)` when the value
    is not empty (django-filter's own `Filter.filter`, and `ChoiceFilter.filter` for a value that is not its
    null choice)."""
    if filter_.method is not None or filter_.distinct or filter_.exclude:
        return False
    own = type(filter_).filter
    if own is django_filters.Filter.filter:
        return True
    return own is django_filters.ChoiceFilter.filter and value != filter_.null_value
