"""Environments, backups and their parts carry their organisation's id, copied from what they belong to."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from appcontrol.applications.models import Environment
from appcontrol.applications.services import environment_create
from appcontrol.backups.models import Backup, ServiceInstanceBackup
from appcontrol.core.ids import decode_id
from tests.backups.helpers import env_of, take_backup


def test_environments_backups_and_parts_take_their_organisation_from_what_they_belong_to(world, provision, run_jobs):
    live = env_of(world, "live")
    provision(live, "sqlite")
    assert live.organisation_id == world.acme.pk
    assert env_of(world, "live", app="other").organisation_id == world.other.pk
    backup = Backup.objects.get(pk=decode_id(take_backup(world, run_jobs, live)["uuid"]))
    assert backup.organisation_id == world.acme.pk
    parts = ServiceInstanceBackup.objects.filter(backup=backup)
    assert parts and {part.organisation_id for part in parts} == {world.acme.pk}
    extra = environment_create(application=world.apps["other"], slug="staging")
    assert Environment.objects.get(pk=extra.pk).organisation_id == world.other.pk


def test_bulk_created_rows_take_it_from_a_loaded_parent_or_from_its_id_alone(world):
    live, other_live = env_of(world, "live"), env_of(world, "live", app="other")
    loaded = Backup(environment=live, state="COMPLETED")
    by_id = Backup(environment_id=other_live.pk, state="COMPLETED")
    Backup.objects.bulk_create(row for row in [loaded, by_id])
    stored = dict(Backup.objects.values_list("pk", "organisation_id"))
    assert stored == {loaded.pk: world.acme.pk, by_id.pk: world.other.pk}


def test_a_saved_row_is_not_looked_up_again(world, django_assert_num_queries):
    backup = Backup.objects.create(environment=env_of(world, "live"))
    backup = Backup.objects.get(pk=backup.pk)
    with django_assert_num_queries(1):
        backup.notes = "kept"
        backup.save()


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_the_organisation_of_existing_rows():
    before = [
        ("applications", "0010_repositories_allowed_internal_hosts"),
        ("backups", "0004_restores_waiting_for_provisioning"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(slug="acme", name="Acme")
    application = old.get_model("applications", "Application").objects.create(
        organisation=organisation, slug="shop", name="Shop"
    )
    environment = old.get_model("applications", "Environment").objects.create(application=application, slug="live")
    backup = old.get_model("backups", "Backup").objects.create(environment=environment)
    part = old.get_model("backups", "ServiceInstanceBackup").objects.create(
        backup=backup, environment=environment, service_type="postgres", engine="postgres"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Environment.objects.get(pk=environment.pk).organisation_id == organisation.pk
    assert Backup.objects.get(pk=backup.pk).organisation_id == organisation.pk
    assert ServiceInstanceBackup.objects.get(pk=part.pk).organisation_id == organisation.pk
