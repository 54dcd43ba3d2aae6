"""Copy an environment: branch, variables and empty service instances; with copy_data, the source's data."""

import sqlite3

import psycopg
import pytest

from appcontrol.applications.models import Environment, EnvironmentVariable
from appcontrol.backups.models import BackupRestore
from appcontrol.core.ids import encode_id
from appcontrol.services.engines import engine_for
from appcontrol.services.models import ServiceInstance
from tests.conftest import api_url

from .helpers import database_url, env_of, take_backup


def copy_url(environment):
    return api_url("api:environment-copy-copy", uuid=environment.pk)


@pytest.fixture
def copies_cleaned():
    """The copies' instances are real resources too: removed after the test."""
    known = set(ServiceInstance.objects.values_list("pk", flat=True))
    yield
    for instance in ServiceInstance.objects.exclude(pk__in=known).select_related("service"):
        engine_for(instance.service.engine).deprovision(instance)


def copy(world, run_jobs, source, actor="member", **body):
    with run_jobs():
        return world.client(actor).post(copy_url(source), body, format="json")


def test_a_copy_has_the_branch_variables_and_empty_instances_of_its_source(world, provision, run_jobs, copies_cleaned):
    source = env_of(world, "live")
    Environment.objects.filter(pk=source.pk).update(branch="release")
    instance = provision(source, "sqlite")
    with sqlite3.connect(instance.resource["path"]) as db:
        db.execute("create table notes (body text)")
    EnvironmentVariable.objects.create(environment=source, name="MODE", value="production")
    EnvironmentVariable.objects.create(environment=source, name="API_KEY", value="secret", is_sensitive=True)
    EnvironmentVariable.objects.create(environment=source, name="SECRET_KEY", value="own", is_sensitive=True)

    response = copy(world, run_jobs, source, new_slug="feature-x")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "feature-x" and body["branch"] == "release"
    assert body["application"] == encode_id(world.apps["acme"].pk)
    created = Environment.objects.get(slug="feature-x")
    assert body["uuid"] == encode_id(created.pk)
    copied = dict(created.variables.filter(service_instance__isnull=True).values_list("name", "is_sensitive"))
    assert copied == {"MODE": False, "API_KEY": True}  # its own SECRET_KEY comes with its first deployment
    new_instance = created.service_instances.get()
    assert (new_instance.service_id, new_instance.prefix, new_instance.service_status) == (
        instance.service_id, "DEFAULT", "ATTACHED"
    )  # fmt: skip
    assert new_instance.resource["path"] != instance.resource["path"]
    with sqlite3.connect(new_instance.resource["path"]) as db:  # empty: no data without copy_data
        assert db.execute("select count(*) from sqlite_master").fetchone()[0] == 0
    assert created.variables.filter(service_instance=new_instance, name="DATABASE_URL").exists()


def test_divio_scripts_form_body_and_bad_input(world, run_jobs):
    source = env_of(world, "test")
    with run_jobs():
        form = world.client("member").post(copy_url(source), {"new_slug": "from-form"})
    assert form.status_code == 201
    assert copy(world, run_jobs, source, new_slug="from-form").json() == {
        "new_slug": ["This application already has an environment with this slug."]
    }
    assert "new_slug" in copy(world, run_jobs, source, new_slug="Bad Slug!").json()
    assert "new_slug" in copy(world, run_jobs, source).json()
    outsider = copy(world, run_jobs, source, actor="outsider", new_slug="mine")
    assert outsider.status_code == 404


def test_the_environment_limit_answers_as_divio_does(world, run_jobs, settings):
    settings.APPCONTROL_ENVIRONMENT_LIMIT = 3  # acme has test and live
    source = env_of(world, "test")
    assert copy(world, run_jobs, source, new_slug="third").status_code == 201
    refused = copy(world, run_jobs, source, new_slug="fourth")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["Can not add another Environment."]}
    created = world.client("member").post(
        api_url("api:environment-list"), {"application": encode_id(source.application_id), "slug": "fifth"}
    )
    assert created.status_code == 400 and not Environment.objects.filter(slug__in=["fourth", "fifth"]).exists()
    world.acme.environment_limit = 0  # the organisation's own limit: none
    world.acme.save()
    assert copy(world, run_jobs, source, new_slug="fourth").status_code == 201


def test_copy_data_without_a_backup_is_refused_and_creates_nothing(world, provision, run_jobs):
    source = env_of(world, "live")
    provision(source, "sqlite")
    refused = copy(world, run_jobs, source, new_slug="with-data", copy_data=True)
    assert refused.status_code == 400 and "no successful backup" in refused.json()["copy_data"][0]
    assert not Environment.objects.filter(slug="with-data").exists()


def test_copy_data_fills_the_new_sqlite_database(world, provision, run_jobs, copies_cleaned):
    source = env_of(world, "live")
    instance = provision(source, "sqlite")
    with sqlite3.connect(instance.resource["path"]) as db:
        db.execute("create table notes (id integer primary key, body text)")
        db.executemany("insert into notes (body) values (?)", [(f"note {n}",) for n in range(50)])
    take_backup(world, run_jobs, source)
    response = copy(world, run_jobs, source, new_slug="with-data", copy_data=True)
    assert response.status_code == 201, response.content
    restore = BackupRestore.objects.get()
    assert restore.success == "SUCCESS" and not restore.waits_for_provisioning
    new_instance = ServiceInstance.objects.get(environment__slug="with-data")
    with sqlite3.connect(new_instance.resource["path"]) as db:
        assert db.execute("select count(*) from notes").fetchone()[0] == 50


def test_copy_data_fills_the_new_postgres_database(world, provision, run_jobs, postgres_url, copies_cleaned):
    source = env_of(world, "live")
    instance = provision(source, "postgres")
    with psycopg.connect(database_url(instance)) as conn:
        conn.execute("create table notes (id int primary key, body text)")
        conn.execute("insert into notes values (1, 'from live'), (2, 'also from live')")
    take_backup(world, run_jobs, source)
    response = copy(world, run_jobs, source, new_slug="pg-copy", copy_data=True)
    assert response.status_code == 201, response.content
    new_instance = ServiceInstance.objects.get(environment__slug="pg-copy")
    assert database_url(new_instance) != database_url(instance)
    with psycopg.connect(database_url(new_instance)) as conn:
        assert conn.execute("select id, body from notes order by id").fetchall() == [
            (1, "from live"), (2, "also from live")
        ]  # fmt: skip
    assert BackupRestore.objects.get().success == "SUCCESS"


def test_a_copy_whose_instance_cannot_be_provisioned_fails_its_restore(world, provision, run_jobs, monkeypatch):
    from appcontrol.services.engines.base import EngineError
    from appcontrol.services.engines.sqlite import SqliteEngine

    source = env_of(world, "live")
    provision(source, "sqlite")
    take_backup(world, run_jobs, source)

    def refuse(self, instance):
        raise EngineError("disk full")

    monkeypatch.setattr(SqliteEngine, "provision", refuse)
    response = copy(world, run_jobs, source, new_slug="broken", copy_data=True)
    assert response.status_code == 201
    restore = BackupRestore.objects.get()
    assert restore.success == "FAILURE" and restore.finished
    assert "could not be provisioned" in restore.service_instance_restores.get().errors[0]
