"""Planner statistics for the embedded SQLite database.

PostgreSQL's autovacuum keeps table statistics current; SQLite has none until ANALYZE runs, and without
them it guesses: on a big list it may pick the organisation's index and sort every row instead of walking
the index that is already in list order (0.4 s against 1 ms for the first page of 200 000 backup parts).
"""

from django.db import connection


def planner_statistics_refresh() -> bool:
    """Refresh SQLite's statistics; return whether there was anything to do (False on PostgreSQL).

    A full ANALYZE (0.14 s for 300 000 rows): sampled statistics (`PRAGMA analysis_limit`) misjudged
    how many rows an environment has and brought the sort back.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=0")
        cursor.execute("ANALYZE")
    return True
