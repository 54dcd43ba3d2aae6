"""Who may see an environment, a backup or a part is decided by the organisation column on its own row
(accounts.ownership). A row whose column disagreed with its parent would be shown to the wrong organisation:
nothing may write one, and what would make existing rows disagree (moving an application to another
organisation, an environment to another application) is not offered."""

import pytest
from django.test import Client

from appcontrol.accounts.models import User
from appcontrol.backups.models import Backup, ServiceInstanceBackup
from tests.backups.helpers import env_of
from tests.conftest import api_url


def test_a_row_given_another_organisation_than_its_parents_is_refused(world):
    live = env_of(world, "live")
    with pytest.raises(ValueError, match="its organisation must be its environment's"):
        Backup.objects.create(environment=live, organisation=world.other)
    with pytest.raises(ValueError, match="its organisation must be its environment's"):
        Backup.objects.bulk_create([Backup(environment_id=live.pk, organisation_id=world.other.pk)])
    backup = Backup.objects.create(environment=live, organisation=world.acme)  # the right one may be given
    with pytest.raises(ValueError, match="its organisation must be its environment's"):
        ServiceInstanceBackup.objects.create(backup=backup, environment=live, organisation=world.other)
    assert world.client("outsider").get(api_url("api:backup-list")).json()["count"] == 0
    assert world.client("member").get(api_url("api:backup-list")).json()["count"] == 1


@pytest.mark.parametrize(
    ("page", "owner_field"), [("applications/application", "organisation"), ("applications/environment", "application")]
)
def test_the_admin_does_not_offer_to_move_a_row_to_another_owner(world, page, owner_field):
    operator = Client()
    operator.force_login(User.objects.create_superuser("root@example.com", password="correct horse battery"))
    obj = world.apps["acme"] if owner_field == "organisation" else env_of(world, "live")
    change = operator.get(f"/admin/{page}/{obj.pk}/change/")
    assert change.status_code == 200
    assert owner_field not in change.context["adminform"].form.fields
    assert f'name="{owner_field}"' not in change.content.decode()
    add = operator.get(f"/admin/{page}/add/")
    assert owner_field in add.context["adminform"].form.fields  # chosen once, when created
