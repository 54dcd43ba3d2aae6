"""Who may see an environment, a backup or a part is decided by the organisation column on its own row
(accounts.ownership). A row whose column disagreed with its parent would be shown to the wrong organisation:
nothing may write one, and what would make existing rows disagree (moving an application to another
organisation, an environment to another application) is not offered."""

import pytest
from django.test import Client

from appcontrol.accounts.models import User
from appcontrol.applications.models import Domain, Environment
from appcontrol.backups.models import Backup, BackupSchedule, ServiceInstanceBackup
from appcontrol.core.ids import new_id
from appcontrol.services.models import Service, ServiceInstance
from tests.backups.helpers import env_of
from tests.conftest import api_url


def test_a_row_given_another_organisation_than_its_parents_is_refused(world):
    live = env_of(world, "live")
    with pytest.raises(ValueError, match="its organisation must be its environment's"):
        Backup.objects.create(environment=live, organisation=world.other)
    with pytest.raises(ValueError, match="its organisation must be its environment's"):
        Backup.objects.bulk_create([Backup(environment_id=live.pk, organisation_id=world.other.pk)])
    backup = Backup.objects.create(environment=live, organisation=world.acme)  # the right one may be given
    with pytest.raises(ValueError, match="its organisation must be its backup's"):
        ServiceInstanceBackup.objects.create(backup=backup, environment=live, organisation=world.other)
    assert world.client("outsider").get(api_url("api:backup-list")).json()["count"] == 0
    assert world.client("member").get(api_url("api:backup-list")).json()["count"] == 1


def _live(world):
    return env_of(world, "live")


OWNED = {  # admin page: (its owner field, the object of `world` it shows)
    "applications/application": ("organisation", lambda world: world.apps["acme"]),
    "applications/environment": ("application", _live),
    "applications/domain": ("environment", lambda w: Domain.objects.create(environment=_live(w), domain="a.example")),
    "backups/backupschedule": ("environment", lambda w: BackupSchedule.objects.create(environment=_live(w))),
    "services/serviceinstance": ("environment", lambda w: ServiceInstance.objects.create(
        environment=_live(w), service=Service.objects.get(engine="sqlite"), type="DATABASE"
    )),
}  # fmt: skip


@pytest.mark.parametrize("page", OWNED)
def test_the_admin_does_not_offer_to_move_a_row_to_another_owner(world, page):
    owner_field, make = OWNED[page]
    operator = Client()
    operator.force_login(User.objects.create_superuser("root@example.com", password="correct horse battery"))
    change = operator.get(f"/admin/{page}/{make(world).pk}/change/")
    assert change.status_code == 200
    assert owner_field not in change.context["adminform"].form.fields
    assert f'name="{owner_field}"' not in change.content.decode()
    add = operator.get(f"/admin/{page}/add/")
    if add.status_code == 200:  # chosen once, when created (service instances are made by the API only)
        assert owner_field in add.context["adminform"].form.fields


def test_rows_are_not_moved_to_another_parent_once_created(world):
    live, other_live = env_of(world, "live"), env_of(world, "live", app="other")
    backup = Backup.objects.create(environment=live)
    fixed = "its environment and organisation are fixed once created"

    moved = Backup.objects.get(pk=backup.pk)
    moved.environment = other_live
    with pytest.raises(ValueError, match=fixed):
        moved.save()
    copied = Backup.objects.get(pk=backup.pk)  # the copy idiom: a new key, another parent
    copied.pk, copied.environment = new_id(), other_live
    with pytest.raises(ValueError, match=fixed):
        copied.save()
    with pytest.raises(ValueError, match=fixed):
        Backup.objects.filter(pk=backup.pk).update(environment=other_live)
    with pytest.raises(ValueError, match=fixed):
        Backup.objects.filter(pk=backup.pk).update(organisation_id=world.other.pk)
    with pytest.raises(ValueError, match=fixed):
        Backup.objects.update_or_create(pk=backup.pk, defaults={"environment": other_live})
    with pytest.raises(ValueError, match="its application and organisation are fixed once created"):
        Environment.objects.filter(pk=live.pk).update(application=world.apps["other"])
    upsert = Backup(pk=backup.pk, environment=live)
    with pytest.raises(ValueError, match=fixed):
        Backup.objects.bulk_create(
            [upsert], update_conflicts=True, unique_fields=["uuid"], update_fields=["environment"]
        )

    assert Backup.objects.get(pk=backup.pk).environment_id == live.pk
    assert world.client("outsider").get(api_url("api:backup-list")).json()["count"] == 0
    moved = Backup.objects.get(pk=backup.pk)
    moved.notes = "still here"
    moved.save()  # other changes save as before
