"""On PostgreSQL, statements travel apart from their values and are prepared once a connection has run them a
few times, so the database stops parsing and planning the lookups every request makes; an operator behind a
pooler that cannot keep prepared statements turns that off."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from appcontrol.applications.models import Application

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@postgres_only
def test_a_repeated_lookup_is_prepared_and_answers_each_time_with_its_own_values(world):
    acme, other = world.apps["acme"], world.apps["other"]
    for turn in range(8):
        app = acme if turn % 2 == 0 else other
        assert Application.objects.filter(slug=app.slug).get() == app
    prepared = _prepared_statements()
    lookup = [statement for statement in prepared if '"applications_application"."slug" = $1' in statement]
    assert len(lookup) == 1, prepared
    assert "example-application" not in lookup[0] and "other-application" not in lookup[0]


def _database_options(**variables) -> str:
    env = {**os.environ, "DATABASE_URL": "postgres://appcontrol@db.invalid:5432/appcontrol", **variables}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = "from appcontrol import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_prepared_statements_are_on_by_default_and_can_be_turned_off():
    assert "('prepare_threshold', 5), ('server_side_binding', True)" in _database_options()
    assert "server_side_binding" not in _database_options(APPCONTROL_DATABASE_PREPARED_STATEMENTS="false")
    refused = _database_options(APPCONTROL_DATABASE_PREPARED_STATEMENTS="sometimes")
    assert "APPCONTROL_DATABASE_PREPARED_STATEMENTS must be true or false" in refused
