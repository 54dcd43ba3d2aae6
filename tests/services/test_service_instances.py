"""Service instances are real resources: files, directories and PostgreSQL databases with their own roles."""

import sqlite3
from pathlib import Path

import psycopg
import pytest
from django.test import override_settings

from appcontrol.applications.models import EnvironmentVariable
from appcontrol.core.ids import encode_id
from appcontrol.services.models import Service, ServiceInstance
from tests.conftest import api_url


def live(world):
    return world.apps["acme"].environments.get(slug="live")


def service_id(engine):
    return encode_id(Service.objects.get(engine=engine).pk)


def test_catalogue_lists_configured_engines_with_divio_cli_filters(world, settings):
    settings.APPCONTROL_POSTGRES_URL = ""
    client = world.client("member")
    query = f"region={encode_id(world.region.pk)}&website={encode_id(world.apps['acme'].pk)}"
    body = client.get(api_url("api:service-list", query=query)).json()
    engines = {item["identifier"]: item["type"] for item in body["results"]}
    assert engines == {"sqlite": "DATABASE", "storage": "STORAGE"}
    assert {"uuid", "name", "type", "description", "identifier"} <= set(body["results"][0])
    settings.APPCONTROL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
    body = client.get(api_url("api:service-list")).json()
    assert "postgres" in {item["identifier"] for item in body["results"]}


def test_create_through_the_api_provisions_in_the_background(world, run_jobs):
    client = world.client("member")
    body = {"environment": encode_id(live(world).pk), "service": service_id("sqlite"), "prefix": "default"}
    with run_jobs():
        response = client.post(api_url("api:service-instance-list"), body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["service_status"] == "NEW"
        assert response.json()["prefix"] == "DEFAULT" and response.json()["type"] == "DATABASE"
    instance = ServiceInstance.objects.get()
    detail = client.get(api_url("api:service-instance-detail", uuid=instance.pk)).json()
    assert detail["service_status"] == "ATTACHED" and detail["errors"] == []
    assert "resource" not in detail and "sqlite" not in str(detail)  # no location, no credentials
    assert Path(instance.resource["path"]).exists()
    variable = EnvironmentVariable.objects.get(environment=live(world))
    assert variable.name == "DATABASE_URL" and variable.is_sensitive
    assert variable.value == f"sqlite:///{instance.resource['path']}"


def test_list_filters_like_divio_cli(world, provision):
    database = provision(live(world), "sqlite")
    provision(live(world), "filesystem")
    provision(world.apps["acme"].environments.get(slug="test"), "sqlite")
    client = world.client("member")
    query = f"environment={encode_id(live(world).pk)}&page_size=10"
    body = client.get(api_url("api:service-instance-list", query=query)).json()
    assert body["count"] == 2
    item = next(i for i in body["results"] if i["type"] == "DATABASE")
    assert item["uuid"] == encode_id(database.pk)
    assert {"uuid", "prefix", "type", "service_status", "region", "service"} <= set(item)
    by_type = client.get(api_url("api:service-instance-list", query="type=STORAGE")).json()
    assert by_type["count"] == 1
    by_app = client.get(api_url("api:service-instance-list", query=f"application={encode_id(world.apps['acme'].pk)}"))
    assert by_app.json()["count"] == 3
    assert client.get("/apps/v3/serviceinstances/").json()["count"] == 3
    assert world.client("outsider").get(api_url("api:service-instance-list")).json()["count"] == 0


def test_duplicate_prefix_and_bad_input_are_400(world, provision):
    provision(live(world), "sqlite")
    client = world.client("member")
    body = {"environment": encode_id(live(world).pk), "service": service_id("sqlite")}
    assert client.post(api_url("api:service-instance-list"), body, format="json").json() == {
        "prefix": ["The environment already has a DATABASE with this prefix."]
    }
    bad_prefix = client.post(api_url("api:service-instance-list"), {**body, "prefix": "9 bad"}, format="json")
    assert "prefix" in bad_prefix.json()
    other_env = {**body, "environment": encode_id(world.apps["other"].environments.first().pk)}
    assert "environment" in client.post(api_url("api:service-instance-list"), other_env, format="json").json()


def test_unconfigured_engine_cannot_be_created(world, settings):
    settings.APPCONTROL_POSTGRES_URL = ""
    body = {"environment": encode_id(live(world).pk), "service": service_id("postgres")}
    response = world.client("member").post(api_url("api:service-instance-list"), body, format="json")
    assert response.status_code == 400 and "service" in response.json()


def test_variables_hide_secret_values_from_members(world, provision):
    provision(live(world), "sqlite")
    provision(live(world), "filesystem", prefix="MEDIA")
    query = f"environment={encode_id(live(world).pk)}"
    as_member = world.client("member").get(api_url("api:environment-variable-list", query=query)).json()
    assert sorted(v["name"] for v in as_member["results"]) == ["DATABASE_URL", "MEDIA_STORAGE_DSN"]
    assert all(v["value"] is None and v["is_sensitive"] for v in as_member["results"])
    as_admin = world.client("admin").get(api_url("api:environment-variable-list", query=query)).json()
    assert all(v["value"] for v in as_admin["results"])
    by_name = world.client("admin").get(api_url("api:environment-variable-list", query=f"{query}&name=DATABASE_URL"))
    assert by_name.json()["count"] == 1
    assert world.client("outsider").get(api_url("api:environment-variable-list")).json()["count"] == 0


def test_delete_needs_admin_and_removes_the_resource(world, provision):
    instance = provision(live(world), "filesystem")
    path = Path(instance.resource["path"])
    (path / "file.txt").write_text("x")
    url = api_url("api:service-instance-detail", uuid=instance.pk)
    assert world.client("outsider").delete(url).status_code == 404
    assert world.client("member").delete(url).status_code == 403
    assert world.client("admin").delete(url).status_code == 204
    assert not path.exists()
    assert not EnvironmentVariable.objects.exists()


def test_provisioning_failure_is_recorded_with_a_message(world, run_jobs, settings):
    settings.APPCONTROL_POSTGRES_URL = "postgres://nobody@127.0.0.1:1/postgres"
    from appcontrol.services.services import service_instance_create

    with run_jobs():
        instance = service_instance_create(environment=live(world), service=Service.objects.get(engine="postgres"))
    instance.refresh_from_db()
    assert instance.service_status == "ERROR"
    assert "Cannot connect to the PostgreSQL server" in instance.errors[0]
    assert instance.ended_at is not None
    assert not EnvironmentVariable.objects.exists()


def test_sqlite_instance_is_a_working_database(world, provision):
    instance = provision(live(world), "sqlite")
    url = EnvironmentVariable.objects.get(service_instance=instance).value
    assert url == f"sqlite:///{instance.resource['path']}"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("create table t (x)")
        db.execute("insert into t values (42)")
    with sqlite3.connect(instance.resource["path"]) as db:  # what the application wrote is there
        assert db.execute("select x from t").fetchall() == [(42,)]
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_postgres_instance_has_its_own_role_that_reaches_only_its_database(world, provision, postgres_url):
    first = provision(live(world), "postgres")
    second = provision(world.apps["acme"].environments.get(slug="test"), "postgres")
    first_url = EnvironmentVariable.objects.get(service_instance=first).value
    second_url = EnvironmentVariable.objects.get(service_instance=second).value
    with psycopg.connect(first_url) as conn:
        conn.execute("create table notes (body text)")
        assert conn.execute("select current_user").fetchone()[0] == first.resource["role"]
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(second_url.rsplit("/", 1)[0] + "/" + first.resource["database"])


@override_settings(APPCONTROL_POSTGRES_URL="")
def test_api_answers_for_instances_whatever_the_engine_settings(world, provision):
    instance = provision(live(world), "sqlite")
    assert world.client("member").get(api_url("api:service-instance-detail", uuid=instance.pk)).status_code == 200
