"""SELECT statements reused per shape say exactly what Django would have compiled, with each query's own
values, and never carry one query's values or columns into another."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Count, F, FilteredRelation, Q, Window
from django.db.models.functions import RowNumber
from django.db.models.lookups import GreaterThan
from django.db.models.sql import compiler as django_compiler
from django.test.utils import CaptureQueriesContext

from appcontrol.applications.models import Application, Environment
from appcontrol.applications.services import application_create
from appcontrol.backups.models import Backup, ServiceInstanceBackup
from appcontrol.core import sql_compiler
from appcontrol.core.ids import decode_id, encode_id
from appcontrol.core.sql_compiler import ROWS_COUNTED, SQLCompiler, counted_along, ids_along, ids_attribute, shapes
from appcontrol.services.models import Service, ServiceInstance
from tests.conftest import api_url


def _django(queryset):
    query = queryset.query
    return django_compiler.SQLCompiler(query, connection, DEFAULT_DB_ALIAS).as_sql()


def _ours(queryset):
    return SQLCompiler(queryset.query, connection, DEFAULT_DB_ALIAS).as_sql()


def _queries(world, first: bool):
    """Pairs of one shape: the same queries with other values."""
    app = world.apps["acme" if first else "other"]
    org = world.acme if first else world.other
    ids = [world.acme.pk, world.other.pk] if first else [world.other.pk, world.acme.pk]
    moment = datetime(2026, 1, 1 if first else 2, tzinfo=UTC)
    return [
        Application.objects.filter(slug=app.slug),
        Application.objects.filter(organisation__in=ids).select_related("organisation").order_by("-created_at", "pk"),
        Application.objects.filter(organisation__in=ids[:1]),
        Environment.objects.filter(application=app, slug="live" if first else "test").select_related("application"),
        Environment.objects.filter(application=app, slug="live"),  # the same but for the columns, order or limits
        Environment.objects.filter(application__organisation=org).only("uuid", "slug")[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org).defer("branch")[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org)[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org).order_by("slug")[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org).order_by("-slug")[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org).reverse()[: 2 if first else 3],
        Environment.objects.filter(application__organisation=org)[1:5],
        Environment.objects.exclude(slug="live").filter(Q(branch="main") | Q(application=app)),
        Backup.objects.filter(environment__application=app, success="SUCCESS", created_at__gte=moment)[:2],
        Backup.objects.filter(created_at__lt=moment, ended_at__isnull=first),
        ServiceInstanceBackup.objects.filter(backup__environment__application__organisation__in=ids).order_by("pk"),
        Application.objects.filter(organisation__in=world.acme.memberships.values("organisation")),
    ]


def test_every_shape_compiles_as_django_does_with_each_querys_own_values(world):
    shapes.clear()
    for first in (True, False, True):  # the second and third compile from the shapes the first kept
        for queryset in _queries(world, first):
            assert _ours(queryset) == _django(queryset), queryset.query


def test_a_kept_shape_is_not_compiled_again(world):
    shapes.clear()
    _ours(Application.objects.filter(slug="example-application"))
    with mock.patch.object(django_compiler.SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        sql, params = _ours(Application.objects.filter(slug="other-application"))
    assert params == ("other-application",)
    assert list(Application.objects.filter(slug="other-application")) == [world.apps["other"]]


def test_rows_come_back_as_their_own_query_asked(world):
    shapes.clear()
    for name in ["acme", "other", "acme"]:
        app = world.apps[name]
        environments = list(Environment.objects.filter(application=app).select_related("application"))
        assert {environment.application for environment in environments} == {app}
        only = Environment.objects.filter(application=app).only("slug").order_by("slug")
        assert [environment.slug for environment in only] == ["live", "test"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Application.objects.values("slug"),
        lambda: Application.objects.values_list("slug", flat=True),
        lambda: Application.objects.annotate(n=Count("environments")),
        lambda: Application.objects.distinct(),
        lambda: Application.objects.filter(pk__in=[]),
        lambda: Application.objects.extra(select={"one": "1"}),
        lambda: Application.objects.extra(tables=["accounts_organisation"]),
        # A window's condition goes to an outer query (QUALIFY), ahead of or after the WHERE's values.
        lambda: Environment.objects.filter(
            GreaterThan(Window(RowNumber(), partition_by=F("application"), order_by="slug"), 1)
        ).filter(application__organisation__slug="acme"),
        # A filtered relation's join, and its condition, are made while compiling.
        lambda: Application.objects.alias(
            live=FilteredRelation("environments", condition=Q(environments__slug="live"))
        ).filter(live__isnull=False),
        lambda: Environment.objects.alias(
            primary=FilteredRelation("domains", condition=Q(domains__is_primary=True))
        ).order_by("primary__domain"),
    ],
)
def test_queries_of_other_kinds_are_compiled_as_django_always_does(world, build):
    shapes.clear()
    with mock.patch.object(sql_compiler._Shapes, "put", side_effect=AssertionError("kept")):
        list(build())
        build().exists()


def test_the_number_of_shapes_kept_is_bounded(world, monkeypatch):
    shapes.clear()
    monkeypatch.setattr(sql_compiler, "MAX_SHAPES", 3)
    for size in range(1, 8):
        list(Application.objects.all()[:size])
    assert len(shapes._entries) == 3
    assert list(Application.objects.order_by("slug")[:1]) == [world.apps["acme"]]


def test_counts_are_kept_by_shape_and_count_their_own_rows(world):
    shapes.clear()
    assert Environment.objects.filter(application=world.apps["acme"]).count() == 2
    with mock.patch.object(django_compiler.SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert Environment.objects.filter(application=world.apps["other"]).count() == 2
    assert Environment.objects.filter(application=world.apps["other"], slug="live").count() == 1
    with mock.patch.object(django_compiler.SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert Environment.objects.filter(application=world.apps["acme"], slug="nope").count() == 0


def test_a_page_counted_along_counts_its_whole_list_with_its_own_values(world):
    application_create(organisation=world.acme, slug="second", name="Second")  # acme: 4 environments, other: 2
    shapes.clear()

    def second_row(org):
        page = counted_along(Environment.objects.filter(application__organisation=org).select_related("application"))
        return list(page.order_by("slug", "pk")[1:2])

    for org, expected in [(world.acme, 4), (world.other, 2), (world.acme, 4)]:
        rows = second_row(org)
        assert len(rows) == 1 and getattr(rows[0], ROWS_COUNTED) == expected
        assert rows[0].application.organisation_id == org.pk
    with mock.patch.object(django_compiler.SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert getattr(second_row(world.other)[0], ROWS_COUNTED) == 2


def test_every_kept_shape_counts_along_as_count_would(world):
    shapes.clear()
    counted_shapes = 0
    for first in (True, False):
        for queryset in _queries(world, first):
            rows = list(counted_along(queryset))
            unlimited = queryset._chain()
            unlimited.query.clear_limits()
            if rows:
                assert getattr(rows[0], ROWS_COUNTED) == unlimited.count(), queryset.query
                counted_shapes += 1
    assert counted_shapes >= 20


def test_a_query_that_is_not_kept_is_not_counted_along_and_counts_apart(world):
    shapes.clear()
    annotated = counted_along(Application.objects.annotate(n=Count("environments")))
    assert all(not hasattr(row, ROWS_COUNTED) for row in annotated)
    assert annotated.count() == 2
    assert counted_along(Application.objects.filter(slug="example-application")).count() == 1
    assert len(counted_along(Application.objects.order_by()).union(Application.objects.order_by())) == 2


def _backups_with_parts(world, parts_each=(2, 0, 3)):
    env = world.apps["acme"].environments.get(slug="live")
    instance = ServiceInstance.objects.create(
        environment=env, service=Service.objects.get(engine="sqlite"), type="DATABASE", service_status="ATTACHED"
    )
    backups = []
    for count in parts_each:
        backup = Backup.objects.create(environment=env, state="COMPLETED", success="SUCCESS")
        for _ in range(count):
            ServiceInstanceBackup.objects.create(
                backup=backup, environment=env, service_instance=instance, service_type="DATABASE", engine="sqlite"
            )
        backups.append(backup)
    return env, backups


def _parts_in_order(backup):
    return [part.pk for part in ServiceInstanceBackup.objects.filter(backup=backup)]  # the model's ordering


def test_rows_read_the_ids_of_their_relation_along_in_its_order(world):
    env, backups = _backups_with_parts(world)
    # Ties in the first sort key, and a time of no microseconds (which SQLite stores shorter), keep the order.
    second = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    first, *tied = ServiceInstanceBackup.objects.filter(backup=backups[2])
    ServiceInstanceBackup.objects.filter(pk=first.pk).update(queued_at=second)
    later = second.replace(microsecond=5)
    ServiceInstanceBackup.objects.filter(pk__in=[part.pk for part in tied]).update(queued_at=later)
    ServiceInstanceBackup.objects.filter(backup=backups[0]).update(queued_at=later)
    shapes.clear()
    parts = "service_instance_backups"

    def of_env():
        return Backup.objects.filter(environment=env)

    queries = [
        lambda: ids_along(of_env(), parts),
        lambda: counted_along(ids_along(of_env(), parts))[:2],
        lambda: ids_along(of_env().select_related("environment"), parts),
        lambda: ids_along(of_env().annotate(n=Count("log")), parts),  # not kept: still read along
    ]
    for build in queries * 2:  # the second time from the kept shapes
        with CaptureQueriesContext(connection) as captured:
            rows = list(build())
        assert len(captured) == 1
        assert rows and all(getattr(row, ids_attribute(parts)) == _parts_in_order(row) for row in rows)
    assert sorted(len(getattr(row, ids_attribute(parts))) for row in ids_along(of_env(), parts)) == [0, 2, 3]
    assert ids_along(of_env(), parts).count() == 3
    # The parts of a union select alike: neither reads along (SQLite allows no ordered parts).
    unordered = of_env().order_by() if connection.vendor == "sqlite" else of_env()
    assert len(ids_along(unordered, parts).union(unordered)) == 3
    assert len(counted_along(unordered).union(unordered)) == 3
    assert ids_along(of_env(), parts).exists()
    assert len(ids_along(of_env(), parts).values_list("pk")) == 3


def test_a_numbered_page_after_an_offset_prefetches_the_ids_instead_of_reading_them_for_every_skipped_row(world):
    env, backups = _backups_with_parts(world)
    client = world.client("member")
    for page in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(api_url("api:backup-list", query=f"page_size=1&page={page}")).json()
        (row,) = body["results"]
        backup = Backup.objects.get(pk=decode_id(row["uuid"]))
        assert row["service_instance_backups"] == [encode_id(pk) for pk in _parts_in_order(backup)]
        page_statement = next(query["sql"] for query in captured if "backups_backup" in query["sql"])
        reads_along = "ARRAY(" in page_statement or "json_group_array" in page_statement
        assert reads_along == (page == 1), page_statement  # after an OFFSET, a prefetch of the page's rows
