"""SQLite gets planner statistics from the scheduler; PostgreSQL keeps its own."""

from django.db import connection

from appcontrol.backups.models import Backup
from appcontrol.core.planner_statistics import planner_statistics_refresh
from tests.backups.helpers import env_of


def test_refresh_gives_sqlite_statistics_for_the_big_lists(world):
    Backup.objects.bulk_create(Backup(environment=env_of(world, "live"), state="COMPLETED") for _ in range(50))
    refreshed = planner_statistics_refresh()
    assert refreshed == (connection.vendor == "sqlite")
    if refreshed:
        with connection.cursor() as cursor:
            cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'backups_backup'")
            statistics = dict(cursor.fetchall())
        assert statistics["backups_bac_created_94acae_idx"].startswith("50 ")
