"""A member restores hostile SQL into their own database: it runs with that database's rights, no more.

Each attack goes through the public API as a member (upload, finish, restore) and must end in a readable
error, a target left exactly as it was, no new role, no program run, and other organisations untouched.
"""

import io
import re
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest

from appcontrol.services.engines import postgres, sql_script
from tests.backups.helpers import database_url, env_of

from .attacks import custom_dump_running, plain_sql, restore_backup, upload

MARKER_DIR = Path("/tmp")  # noqa: S108 - where an escaped shell command would leave its mark


@pytest.fixture
def target(world, provision, postgres_url):
    """The member's test database with rows to protect, and another organisation's database with secrets."""
    mine = provision(env_of(world, "test"), "postgres")
    theirs = provision(env_of(world, "live", app="other"), "postgres")
    with psycopg.connect(database_url(mine)) as conn:
        conn.execute("create table keep (id int primary key, body text)")
        conn.execute("insert into keep select n, 'row ' || n from generate_series(1, 50) n")
    with psycopg.connect(database_url(theirs)) as conn:
        conn.execute("create table secrets (body text)")
        conn.execute("insert into secrets values ('the other organisation''s secret')")
    return mine, theirs


def snapshot(instance) -> list:
    with psycopg.connect(database_url(instance)) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public' order by 1"
        ).fetchall()
        return [tables, conn.execute("select * from keep order by id").fetchall()]


def roles(postgres_url) -> set[str]:
    with psycopg.connect(postgres_url) as conn:
        return {row[0] for row in conn.execute("select rolname from pg_roles")}


def assert_contained(target_pair, postgres_url, before_snapshot, before_roles, markers=()):
    mine, theirs = target_pair
    assert snapshot(mine) == before_snapshot, "the target changed"
    assert roles(postgres_url) == before_roles, "a role appeared"
    for marker in markers:
        assert not marker.exists(), f"a program ran: {marker}"
    with psycopg.connect(database_url(theirs)) as conn:
        assert conn.execute("select body from secrets").fetchall() == [("the other organisation's secret",)]


def attempt(world, run_jobs, target_pair, data: bytes) -> tuple[list[str], list[str]]:
    """Upload and (if the upload is accepted) restore; return the upload's and the restore's errors."""
    mine, _ = target_pair
    backup = upload(world, run_jobs, env_of(world, "test"), mine, data)
    part = backup.service_instance_backups.get()
    if part.errors:
        return part.errors, []
    result = restore_backup(world, run_jobs, backup)
    assert result["success"] == "FAILURE", result
    return [], result["service_instance_restores"][0]["errors"]


def marker() -> Path:
    return MARKER_DIR / f"appcontrol-pwned-{secrets.token_hex(6)}"


@pytest.mark.parametrize(
    "attack",
    [
        "\\! touch {marker}",
        "\\c {their_database}\n\\copy secrets to '{marker}'",
        "select 1 \\gexec",
        "\\o |touch {marker}",
        "\\set x `touch {marker}`",
        "\\i /etc/passwd",
    ],
)
def test_psql_commands_in_plain_sql_are_refused(world, run_jobs, target, postgres_url, attack):
    before, before_roles, mark = snapshot(target[0]), roles(postgres_url), marker()
    text = attack.format(marker=mark, their_database=target[1].resource["database"])
    upload_errors, restore_errors = attempt(world, run_jobs, target, plain_sql("create table t (x int);", text))
    assert "is not allowed" in (upload_errors + restore_errors)[0]
    assert "psql command" in (upload_errors + restore_errors)[0]
    assert_contained(target, postgres_url, before, before_roles, [mark])


@pytest.mark.parametrize(
    "hidden",
    [
        "select E'it''s \\' \\! touch {marker} '",  # inside an E'' literal: not a command (no refusal needed)
        "select $x$ \\! touch {marker} $x$",
        "select 'one'\n'two' /* \\! not a command */",
    ],
)
def test_backslashes_inside_literals_and_comments_are_data(world, run_jobs, target, postgres_url, hidden):
    mine, _ = target
    mark = marker()
    backup = upload(world, run_jobs, env_of(world, "test"), mine, plain_sql(hidden.format(marker=mark) + ";"))
    assert backup.success == "SUCCESS", backup.service_instance_backups.get().errors
    result = restore_backup(world, run_jobs, backup)
    assert result["success"] == "SUCCESS", result["service_instance_restores"][0]["errors"]
    assert not mark.exists()


def test_a_backslash_after_a_string_continues_with_its_escapes(world, run_jobs, target, postgres_url):
    """`E'…'<newline>'…'` is one literal with E's escapes: `\\'` does not end it, so the next quote does,
    and what follows is a command."""
    before, before_roles, mark = snapshot(target[0]), roles(postgres_url), marker()
    text = f"select E'a'\n'\\' '\\! touch {mark}\n';"
    upload_errors, restore_errors = attempt(world, run_jobs, target, plain_sql(text))
    assert "\\!" in (upload_errors + restore_errors)[0]
    assert_contained(target, postgres_url, before, before_roles, [mark])


@pytest.mark.parametrize(
    ("attack", "message"),
    [
        ("RESET ROLE; CREATE ROLE pwned_{tag} SUPERUSER LOGIN;", "superuser"),
        ("SET ROLE postgres; CREATE TABLE owned_by_postgres (x int);", "permission denied to set role"),
        ("CREATE TEMP TABLE out (x text); COPY out FROM PROGRAM 'touch {marker}';", "pg_execute_server_program"),
        ("COPY (SELECT 1) TO '{marker}';", "pg_write_server_files"),
        ("SELECT pg_read_file('/etc/passwd');", "permission denied"),
        ("CREATE EXTENSION file_fdw;", "permission denied"),
        ("ALTER SYSTEM SET log_statement = 'all';", "permission denied|cannot run inside a transaction block"),
        ("CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;\n"
         "CREATE EVENT TRIGGER t ON ddl_command_start EXECUTE FUNCTION f();", "permission denied"),
        ("ALTER ROLE CURRENT_USER SUPERUSER;", "superuser"),
    ],
)  # fmt: skip
def test_sql_runs_with_the_instance_roles_rights_only(world, run_jobs, target, postgres_url, attack, message):
    before, before_roles, mark = snapshot(target[0]), roles(postgres_url), marker()
    text = attack.format(marker=mark, tag=secrets.token_hex(3))
    # A restore first drops what the role owns (in its transaction): a refused one must bring `keep` back.
    upload_errors, restore_errors = attempt(world, run_jobs, target, plain_sql("create table new (x int);", text))
    assert not upload_errors, upload_errors  # plain SQL: nothing to refuse before it runs
    assert "rolled back" in restore_errors[0] and re.search(message, restore_errors[0]), restore_errors
    assert_contained(target, postgres_url, before, before_roles, [mark])


@pytest.mark.parametrize("statement", ["COMMIT;", "ROLLBACK;", "BEGIN;", "END;", "START TRANSACTION;", "ABORT;"])
def test_a_script_cannot_end_the_restore_transaction(world, run_jobs, target, postgres_url, statement):
    before, before_roles = snapshot(target[0]), roles(postgres_url)
    upload_errors, restore_errors = attempt(
        world, run_jobs, target, plain_sql("create table new (x int);", statement, "select 1/0;")
    )
    assert "one transaction" in (upload_errors + restore_errors)[0]
    assert_contained(target, postgres_url, before, before_roles)


@pytest.mark.parametrize(
    "script",
    [
        # The lexer keeps standard_conforming_strings on; psql follows the server's report of "off".
        "CREATE TABLE partial (a int);\nSET/**/standard_conforming_strings = off;\nSELECT '\\'' ; COMMIT; -- ';\n"
        "SELECT 1/0;",
        "CREATE TABLE partial (a int);\nSELECT set_config('standard_conforming_strings', 'off', false);\n"
        "SELECT '\\'' ; COMMIT; -- ';\nSELECT 1/0;",
    ],
)
def test_a_commit_the_check_cannot_see_still_changes_nothing(world, run_jobs, target, postgres_url, script):
    """Dynamic SQL can change how psql reads what follows, so no check can see every COMMIT. The restore
    fills a copy and swaps it in only when the whole script succeeded: a hidden COMMIT commits into the copy."""
    before, before_roles = snapshot(target[0]), roles(postgres_url)
    upload_errors, restore_errors = attempt(world, run_jobs, target, plain_sql(script))
    assert "rolled back" in (upload_errors + restore_errors)[0]
    assert_contained(target, postgres_url, before, before_roles)


def test_a_script_whose_end_never_runs_is_not_reported_as_restored(world, run_jobs, target, postgres_url):
    """A COPY left open swallows whatever follows as data, and psql ends well: the worker's last statement
    never ran, so the copy is not swapped in."""
    before, before_roles = snapshot(target[0]), roles(postgres_url)
    upload_errors, restore_errors = attempt(
        world, run_jobs, target, plain_sql("CREATE TABLE swallow (a text);", "COPY swallow FROM stdin;")
    )
    assert not upload_errors and "did not run to its end" in restore_errors[0], restore_errors
    assert_contained(target, postgres_url, before, before_roles)


def test_a_restore_cannot_leave_a_password_of_its_choosing(world, run_jobs, target, postgres_url):
    """A member may not read the instance's credentials; a restore must not let them set their own."""
    mine, _ = target
    script = plain_sql("CREATE TABLE t (x int);", "ALTER ROLE CURRENT_USER PASSWORD 'chosen-by-member';")
    backup = upload(world, run_jobs, env_of(world, "test"), mine, script)
    assert restore_backup(world, run_jobs, backup)["success"] == "SUCCESS"
    with psycopg.connect(postgres_url) as admin:
        verifier = admin.execute("select rolpassword from pg_authid where rolname = %s", [mine.resource["role"]])
        verifier = verifier.fetchone()[0]
    recorded = psycopg.conninfo.conninfo_to_dict(database_url(mine))["password"]
    assert scram_matches(verifier, recorded) and not scram_matches(verifier, "chosen-by-member")


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a PostgreSQL SCRAM-SHA-256 verifier was made from `password` (RFC 5802)."""
    import base64
    import hashlib
    import hmac

    _, iterations_and_salt, keys = verifier.split("$")
    iterations, salt = iterations_and_salt.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == keys.split(":")[0]


def test_a_custom_dump_whose_entries_run_sql_runs_it_without_rights(world, run_jobs, target, postgres_url):
    before, before_roles, mark = snapshot(target[0]), roles(postgres_url), marker()
    tag = secrets.token_hex(3)
    injected = (
        f"RESET ROLE; CREATE ROLE pwned_{tag} SUPERUSER LOGIN; "
        f"COPY innocent FROM PROGRAM 'psql -d {target[1].resource['database']} -c \"copy secrets to stdout\"'; "
        f"COPY innocent TO PROGRAM 'touch {mark}';"
    )
    dump = custom_dump_running(postgres_url, injected)
    upload_errors, restore_errors = attempt(world, run_jobs, target, dump)
    assert not upload_errors, upload_errors
    assert "rolled back" in restore_errors[0] and "superuser" in restore_errors[0], restore_errors
    assert_contained(target, postgres_url, before, before_roles, [mark])


def test_a_custom_dump_whose_entries_hold_psql_commands_is_refused(world, run_jobs, target, postgres_url):
    before, before_roles, mark = snapshot(target[0]), roles(postgres_url), marker()
    dump = custom_dump_running(postgres_url, f"\n\\! touch {mark}\n")
    upload_errors, restore_errors = attempt(world, run_jobs, target, dump)
    assert "\\!" in (upload_errors + restore_errors)[0]
    assert_contained(target, postgres_url, before, before_roles, [mark])


def test_psql_refuses_commands_even_if_the_scanner_missed_them(world, provision, target, postgres_url, monkeypatch):
    """The second layer alone: with the scanner blind, psql's own \\restrict still runs no command."""
    mine, _ = target
    before = snapshot(mine)
    monkeypatch.setattr(sql_script._Scanner, "lex", lambda self, line: None)
    script = plain_sql("create table new (x int);", "select 'create table from_gexec (x int)' \\gexec")
    with pytest.raises(postgres.EngineError, match="backslash commands are restricted"):
        postgres.PostgresEngine().restore(mine, io.BytesIO(script))
    assert snapshot(mine) == before


def test_a_dump_cut_short_restores_nothing(target, postgres_url):
    """pg_restore fails partway through a truncated archive, after psql has already run part of it: the
    transaction ends without its COMMIT, so none of it stays."""
    mine, _ = target
    before = snapshot(mine)
    with psycopg.connect(database_url(mine)) as conn:
        conn.execute("create table filler as select n, md5(n::text) as body from generate_series(1, 100000) n")
    dump = subprocess.run(
        ["pg_dump", "--format=custom", "--compress=0", "--no-owner", database_url(mine)],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    with psycopg.connect(database_url(mine)) as conn:
        conn.execute("drop table filler")
    with pytest.raises(postgres.EngineError, match="pg_restore cannot read this dump"):
        postgres.PostgresEngine().restore(mine, io.BytesIO(dump[: len(dump) * 2 // 3]))
    assert snapshot(mine) == before


def test_an_instance_role_cannot_reach_another_instances_database(target, postgres_url):
    mine, theirs = target
    elsewhere = psycopg.conninfo.make_conninfo(database_url(mine), dbname=theirs.resource["database"])
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(elsewhere)
    with psycopg.connect(database_url(mine)) as conn:
        attributes = conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles "
            "where rolname = current_user"
        ).fetchone()
    assert attributes == (False, False, False, False, False)


def test_secure_command_repairs_an_instance_opened_to_everyone(target, postgres_url):
    from django.core.management import call_command

    mine, _ = target
    database = mine.resource["database"]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"GRANT CONNECT ON DATABASE {database} TO PUBLIC")
        admin.execute(f"ALTER ROLE {mine.resource['role']} CREATEDB")
    call_command("service-instances", "secure")
    with psycopg.connect(postgres_url) as admin:
        acl = admin.execute("select datacl::text from pg_database where datname = %s", [database]).fetchone()[0]
        createdb = admin.execute("select rolcreatedb from pg_roles where rolname = %s", [database]).fetchone()[0]
    assert not [entry for entry in acl.strip("{}").split(",") if entry.startswith("=")], acl
    assert not createdb
