"""What deletes backups or replaces data needs the owner or admin role where `DELETE` does, and one
request's work is bounded."""

import pytest
from django.utils import timezone

from appcontrol.backups.models import Backup, BackupSchedule
from appcontrol.backups.schedules import schedules_run
from appcontrol.core.fields import MAX_LIST_ITEMS
from appcontrol.core.ids import encode_id
from tests.backups.helpers import env_of, make_history, take_backup
from tests.conftest import api_url

RETENTION_TO_NOTHING = {"keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0}


def test_a_member_cannot_shrink_the_retention_of_live(world):
    live = env_of(world, "live")
    schedule = BackupSchedule.objects.create(environment=live)
    kept = make_history(live, 3, timezone.now())
    url = api_url("api:backup-schedule-detail", uuid=schedule.pk)
    for method in ("patch", "put"):
        response = getattr(world.client("member"), method)(url, RETENTION_TO_NOTHING, format="json")
        assert response.status_code == 403, response.json()
        assert "retention of live" in response.json()["detail"]
    schedules_run()
    assert Backup.objects.filter(pk__in=[b.pk for b in kept], scheduled_for_deletion_at=None).count() == 3
    # What is not retention stays a member's to change, and an owner or admin may change retention.
    assert world.client("member").patch(url, {"hour": 5, "keep_daily": 7}, format="json").status_code == 200
    assert world.client("admin").patch(url, RETENTION_TO_NOTHING, format="json").status_code == 200


def test_a_member_cannot_create_a_live_schedule_with_its_own_retention(world):
    body = {"environment": encode_id(env_of(world, "live").pk), **RETENTION_TO_NOTHING}
    response = world.client("member").post(api_url("api:backup-schedule-list"), body, format="json")
    assert response.status_code == 403
    assert not BackupSchedule.objects.exists()


def test_a_member_may_set_the_retention_of_test(world):
    schedule = BackupSchedule.objects.create(environment=env_of(world, "test"))
    url = api_url("api:backup-schedule-detail", uuid=schedule.pk)
    assert world.client("member").patch(url, RETENTION_TO_NOTHING, format="json").status_code == 200


@pytest.fixture
def two_part_backup(world, provision, run_jobs):
    provision(env_of(world, "test"), "sqlite")
    provision(env_of(world, "test"), "filesystem", prefix="MEDIA")
    return take_backup(world, run_jobs, env_of(world, "test"))


def restore_request(world, backup, items):
    return world.client("member").post(
        api_url("api:backup-restore-list"),
        {"backup": backup["uuid"], "service_instance_restores": items},
        format="json",
    )


def test_a_restore_names_each_part_once(world, two_part_backup):
    part = two_part_backup["service_instance_backups"][0]
    response = restore_request(world, two_part_backup, [{"service_instance_backup": part}] * 2)
    assert response.status_code == 400
    assert "only once" in response.json()["service_instance_restores"][0]


def test_a_restore_names_no_more_items_than_the_backup_has_parts(world, two_part_backup):
    parts = two_part_backup["service_instance_backups"]
    response = restore_request(world, two_part_backup, [{"service_instance_backup": p} for p in parts * 2])
    assert response.status_code == 400
    assert "2 part(s)" in response.json()["service_instance_restores"][0]


def test_a_huge_restore_request_is_refused_before_any_lookup(world, two_part_backup, django_assert_max_num_queries):
    part = two_part_backup["service_instance_backups"][0]
    items = [{"service_instance_backup": part}] * 20_000
    with django_assert_max_num_queries(10):
        response = restore_request(world, two_part_backup, items)
    assert response.status_code == 400
    assert str(MAX_LIST_ITEMS) in str(response.json())


def test_a_huge_list_of_ids_is_refused_before_any_lookup(world, two_part_backup, django_assert_max_num_queries):
    body = {
        "environment": encode_id(env_of(world, "test").pk),
        "services": [encode_id(env_of(world, "test").pk)] * 5000,
    }
    with django_assert_max_num_queries(10):
        response = world.client("member").post(api_url("api:backup-list"), body, format="json")
    assert response.status_code == 400 and "services" in response.json()
