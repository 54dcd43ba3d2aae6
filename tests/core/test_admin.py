"""The operator's admin shows every part of the domain, without offering to create what only the API can."""

import pytest
from django.test import Client

from appcontrol.accounts.models import User
from appcontrol.applications.models import Domain
from appcontrol.backups.models import Backup, BackupRestore
from tests.backups.helpers import env_of

PAGES = [
    "accounts/user", "accounts/organisation", "accounts/accesstoken", "applications/application",
    "applications/environment", "applications/domain", "services/serviceinstance", "backups/backup",
    "backups/backuprestore", "backups/backupschedule",
]  # fmt: skip


@pytest.fixture
def operator(world, provision, run_jobs):
    provision(env_of(world, "live"), "sqlite")
    backup = Backup.objects.create(environment=env_of(world, "live"), state="COMPLETED", success="SUCCESS")
    BackupRestore.objects.create(backup=backup)
    Domain.objects.create(environment=env_of(world, "live"), domain="shop.example.com")
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.com", password="correct horse battery"))
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_part_of_the_domain_is_listed_and_opens(operator, page):
    listing = operator.get(f"/admin/{page}/")
    assert listing.status_code == 200
    objects = listing.context["cl"].result_list
    assert objects, f"nothing listed on {page}"
    assert operator.get(f"/admin/{page}/{objects[0].pk}/change/").status_code == 200


@pytest.mark.parametrize("page", ["services/serviceinstance", "backups/backup", "backups/backuprestore"])
def test_what_only_the_api_can_create_has_no_add_page(operator, page):
    assert operator.get(f"/admin/{page}/add/").status_code == 403
