"""`narrowed()` makes the very query chained `filter()` calls make, for every filter of the API's lists."""

import datetime
import decimal
import uuid

import pytest
from django.db.models import Count
from django_filters import filters as django_filters

from appcontrol.applications.models import Application, Environment
from appcontrol.applications.services import application_create
from appcontrol.backups.models import Backup
from appcontrol.core import narrowing
from appcontrol.core.fields import IdListFilter
from appcontrol.core.narrowing import narrowed
from tests.core.test_filtersets import _viewsets


def _statement(queryset):
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _sample(filter_):
    """A value the filter's form field could have cleaned."""
    if isinstance(filter_, django_filters.ChoiceFilter):
        return filter_.extra["choices"][0][0]
    if isinstance(filter_, django_filters.BooleanFilter):
        return False
    if isinstance(filter_, django_filters.NumberFilter):
        return decimal.Decimal("7")
    if isinstance(filter_, django_filters.IsoDateTimeFilter):
        return datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    if isinstance(filter_, django_filters.CharFilter):
        return "x"
    return uuid.UUID(int=7)


def _filter_sets():
    return {view.filterset_class for view in _viewsets() if getattr(view, "filterset_class", None)}


@pytest.mark.django_db
def test_every_filter_of_every_list_makes_the_query_that_filter_makes():
    checked = 0
    for filter_set in _filter_sets():
        model = filter_set._meta.model
        for name, filter_ in filter_set.base_filters.items():
            if filter_.method is not None:
                continue
            value = _sample(filter_)
            if isinstance(filter_, IdListFilter | django_filters.MultipleChoiceFilter):
                value = [value]
            cleaned = filter_set(queryset=model._default_manager.all())
            cleaned._cleaned, cleaned._errors = {name: value}, {}
            expected = filter_.filter(model._default_manager.all(), value)
            assert _statement(cleaned.filter_queryset(model._default_manager.all())) == _statement(expected), (
                filter_set,
                name,
            )
            checked += 1
    assert checked >= 40


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "conditions"),
    [
        (Application, [("organisation__in", [uuid.UUID(int=1), uuid.UUID(int=2)]), ("slug", "shop")]),
        (Application, [("organisation__in", [])]),
        (Environment, [("application__organisation__in", [uuid.UUID(int=1)]), ("application", uuid.UUID(int=3))]),
        (
            Backup,
            [
                ("environment_id", uuid.UUID(int=4)),
                ("success", "SUCCESS"),
                ("created_at__gte", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)),
            ],
        ),
        (
            Backup,
            [("environment__application__organisation__in", [uuid.UUID(int=1)]), ("environment_id", uuid.UUID(int=4))],
        ),
        (Backup, [("environment", uuid.UUID(int=4)), ("environment", uuid.UUID(int=5))]),
        (Backup, [("notes__icontains", "50%_off"), ("state__in", ("QUEUED", "RUNNING"))]),
    ],
)
def test_conditions_give_the_statement_chained_filters_give(model, conditions):
    expected = model.objects.all()
    for lookup, value in conditions:
        expected = expected.filter(**{lookup: value})
    narrowed_ = narrowed(model.objects, conditions)
    if any(value == [] for _, value in conditions):
        assert list(narrowed_) == list(expected) == []  # `IN ()` matches nothing, without a query
        return
    assert _statement(narrowed_) == _statement(expected)


@pytest.mark.django_db
def test_conditions_it_cannot_build_go_through_filter_in_their_place(monkeypatch):
    calls = []
    real_filter = Backup.objects.all().filter.__func__

    def counting_filter(self, *args, **kwargs):
        calls.append(kwargs)
        return real_filter(self, *args, **kwargs)

    monkeypatch.setattr(type(Backup.objects.all()), "filter", counting_filter)
    environment = uuid.UUID(int=4)
    queryset = narrowed(
        Backup.objects.all(),
        [
            ("environment_id", environment),  # a column of its own table: built here
            ("environment__application__organisation__in", [uuid.UUID(int=1)]),  # joins
            ("notes", None),  # None means IS NULL
            ("success", "SUCCESS"),  # built here again, on filter()'s result
        ],
    )
    assert [list(call) for call in calls] == [["environment__application__organisation__in"], ["notes"]]
    expected = (
        Backup.objects.filter(environment_id=environment)
        .filter(environment__application__organisation__in=[uuid.UUID(int=1)])
        .filter(notes=None)
        .filter(success="SUCCESS")
    )
    assert _statement(queryset) == _statement(expected)


@pytest.mark.django_db
def test_annotations_and_slices_are_left_to_filter():
    annotated = Application.objects.annotate(slug_count=Count("slug"))
    assert _statement(narrowed(annotated, [("slug_count", 2)])) == _statement(annotated.filter(slug_count=2))
    with pytest.raises(TypeError, match="slice"):
        narrowed(Application.objects.all()[:3], [("slug", "x")])


@pytest.mark.django_db
def test_the_queryset_given_is_left_as_it_was():
    base = Application.objects.filter(slug="a")
    before = _statement(base)
    narrowed(base, [("name", "b"), ("organisation_id", uuid.UUID(int=1))])
    assert _statement(base) == before


def test_lookups_through_a_join_or_a_relation_list_have_no_recipe():
    assert narrowing._recipe(Backup, "environment_id") is not None
    assert narrowing._recipe(Backup, "environment__in") is not None  # the join to the environment is trimmed
    assert narrowing._recipe(Backup, "environment__slug") is None
    assert narrowing._recipe(Environment, "backups__success") is None
    assert narrowing._recipe(Backup, "no_such_field") is None
    assert narrowing._recipe(Backup, "notes__isnull") is None


def test_a_related_managers_prefetched_rows_are_neither_returned_unfiltered_nor_changed(world):
    application_create(organisation=world.acme, slug="second", name="Second")
    organisation = type(world.acme).objects.prefetch_related("applications").get(pk=world.acme.pk)
    every = [application.slug for application in organisation.applications.all()]
    assert len(every) > 1
    only = narrowed(organisation.applications, [("slug", every[0])])
    assert [application.slug for application in only] == [every[0]]
    assert [application.slug for application in organisation.applications.all()] == every
