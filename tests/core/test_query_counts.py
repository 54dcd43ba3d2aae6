"""A list costs the same number of queries whatever its page size: no N+1.

Counts are pinned for any page: authentication (1: the token with its user, or on PostgreSQL the check of
a caller the process remembers, made before the counter is written), the rate limit's counter (1:
one upsert, when the counters are in the database rather than Redis) and the page (1), whose statement also
counts the list; the organisation list's role of the caller is a subquery inside the page's query. A list
whose query has annotations of its own is counted by a query apart when its first page is full.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appcontrol.accounts.models import Membership, Organisation, Role
from appcontrol.activities.models import ApplicationActivity
from appcontrol.applications.models import Domain, EnvironmentVariable, Region
from appcontrol.applications.services import application_create
from appcontrol.backups.models import (
    Backup,
    BackupDownload,
    BackupDownloadServiceInstance,
    BackupRestore,
    BackupSchedule,
    ServiceInstanceBackup,
    ServiceInstanceRestore,
)
from appcontrol.services.models import Service, ServiceInstance
from tests.conftest import api_url

LISTS = {
    "api:application-list": 3,
    "api:environment-list": 3,
    "api:region-list": 3,
    "api:domain-list": 3,
    "iam:organisation-list": 3,
    "api:service-list": 3,
    "api:service-instance-list": 3,
    "api:environment-variable-list": 3,
    "api:backup-list": 3,  # the parts' ids read along
    "api:service-instance-backup-list": 3,
    "api:backup-schedule-list": 3,
    "api:backup-download-list": 3,  # the items' ids read along
    "api:backup-download-service-instance-list": 3,
    "api:backup-restore-list": 4,  # + the items
    "api:application-activity-list": 3,  # who did it: joined
}
COUNTED_APART = {"iam:organisation-list", "api:environment-variable-list"}  # the caller's role, annotated


@pytest.fixture
def crowded(world):
    member = world.users["member"]
    env = None
    for number in range(30):
        app = application_create(organisation=world.acme, slug=f"app-{number:02d}", name=f"App {number}")
        env = app.environments.first()
        Domain.objects.create(environment=env, domain=f"app{number}.example.com")
        instance = ServiceInstance.objects.create(
            environment=env, service=Service.objects.get(engine="sqlite"), type="DATABASE", service_status="ATTACHED"
        )
        EnvironmentVariable.objects.create(environment=env, name="DATABASE_URL", value="x", service_instance=instance)
        ApplicationActivity.objects.create(
            organisation=world.acme, application_id=app.pk, type="application.created", description="x", user=member
        )
        backup = Backup.objects.create(environment=env, state="COMPLETED", success="SUCCESS")
        for _ in range(2):
            ServiceInstanceBackup.objects.create(
                backup=backup, environment=env, service_instance=instance, service_type="DATABASE", engine="sqlite"
            )
        BackupSchedule.objects.create(environment=env)
        download = BackupDownload.objects.create(backup=backup)
        restore = BackupRestore.objects.create(backup=backup)
        for part in backup.service_instance_backups.all():
            BackupDownloadServiceInstance.objects.create(backup_download=download, service_instance_backup=part)
            ServiceInstanceRestore.objects.create(
                backup_restore=restore, service_instance_backup=part, service_instance=instance
            )
        organisation = Organisation.objects.create(slug=f"org-{number}", name=f"Org {number}")
        Membership.objects.create(user=member, organisation=organisation, role=Role.MEMBER)
    for number in range(3):
        Region.objects.create(slug=f"region-{number}", name=f"Region {number}")
    client = world.client("member")
    client.get(api_url("api:region-list"))  # records last_used_at, so later requests only read the token
    return client


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name, expected", LISTS.items())
def test_list_query_count_is_pinned_and_independent_of_page_size(crowded, name, expected):
    for size in (1, 20):
        url = api_url(name, query=f"page_size={size}")
        spans_pages = crowded.get(url).json()["count"] > size
        counted_apart = spans_pages and name in COUNTED_APART
        assert queries_for(crowded, url) == expected + counted_apart, size


@pytest.mark.parametrize("name, expected", LISTS.items())
def test_cursor_pages_and_whole_lists_run_no_count(crowded, name, expected):
    first = crowded.get(api_url(name, query="page_size=1")).json()
    assert first["next"], "the list should span pages"
    assert queries_for(crowded, first["next"]) == expected
    assert queries_for(crowded, api_url(name, query="page_size=500")) == expected


def test_detail_is_three_queries(crowded, world):
    url = api_url("api:application-detail", uuid=world.apps["acme"].pk)
    assert queries_for(crowded, url) == 3
