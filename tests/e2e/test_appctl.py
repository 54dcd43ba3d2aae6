"""appctl against a real server: the seed's chain in one call, every page, the fallback for servers
without filters, long operations, downloads, and the command line."""

import hashlib
import json
import os
import re
import subprocess
import sys

import appctl
import pytest

from .conftest import server_shell, wait_for

MANY = 130  # more than one page of the server's default page size (100)


@pytest.fixture(scope="module")
def client(server):
    with appctl.Client(server["url"], token=server["token"]) as client:
        yield client


@pytest.fixture(scope="module")
def history(server, client):
    """A real backup of live, then many older completed ones, so lists span several pages."""
    live = client.applications.get_by_slug("example-application").environment("live")
    # A schedule's first backup is at its hour (02:00 UTC): switch it off, so a run that happens to cross
    # that hour cannot take a newer backup than the one taken here.
    schedule = next(iter(client.backup_schedules.list(environment=live.uuid)))
    client.backup_schedules.update(schedule.uuid, enabled=False)
    wait_for(lambda: all(backup.state == "COMPLETED" for backup in client.backups.list(environment=live.uuid)))
    real = client.backups.create(environment=live.uuid, notes="real").wait(timeout=120)
    assert real.success == "SUCCESS"
    server_shell(
        server,
        "from datetime import timedelta\n"
        "from appcontrol.backups.models import Backup\n"
        "from appcontrol.core.ids import decode_id\n"
        f"real = Backup.objects.get(pk=decode_id('{real.uuid}'))\n"
        f"Backup.objects.bulk_create([Backup(environment=real.environment, state='COMPLETED', success='FAILURE',"
        f" created_at=real.created_at - timedelta(hours=n + 1)) for n in range({MANY})])\n",
    )
    return {"live": live, "real": real}


def test_appctl_imports_without_django():
    code = "import sys, appctl, appctl.cli; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_relations_walk_the_seed_chain(client, history):
    app = client.applications.get_by_slug("example-application")
    assert sorted(env.slug for env in app.environments()) == ["live", "test"]
    backup = next(history["live"].backups(success="SUCCESS"))
    parts = backup.service_instance_backups()
    assert {part.service_type for part in parts} == {"DATABASE", "STORAGE"}
    assert all(part.service_instance().type == part.service_type for part in parts)


def test_every_collection_has_a_resource_client(client, history):
    live = history["live"]
    names = {variable.name for variable in client.environment_variables.list(environment=live.uuid)}
    assert "DEFAULT_STORAGE_DSN" in names
    schedule = next(client.backup_schedules.list(environment=live.uuid))
    assert client.backup_schedules.update(schedule.uuid, hour=5).hour == 5
    assert list(client.domains.list(environment=live.uuid)) == []
    assert {region.name for region in client.regions.list()} and next(client.organisations.list()).name


def test_list_walks_every_page_and_limit_stops_early(client, history):
    everything = list(client.backups.list(environment=history["live"].uuid))
    count = client.get("/apps/v3/backups/", environment=history["live"].uuid)["count"]
    assert count > MANY and len(everything) == count and len({b.uuid for b in everything}) == count
    assert len(list(client.backups.list(environment=history["live"].uuid, limit=5))) == 5


def test_latest_answers_the_seed_question_in_a_few_requests(client, history):
    before = client.transport.request_count
    backup, parts = client.backups.latest(application="example-application", environment="live")
    used = client.transport.request_count - before
    assert backup.uuid == history["real"].uuid
    assert {part.service_type for part, _ in parts} == {"DATABASE", "STORAGE"}
    assert all(part.taken_at and part.size > 0 for part, _ in parts)
    assert used <= 8, used
    database_only = client.backups.latest(
        application="example-application", environment="live", service_type="DATABASE"
    )
    assert [part.service_type for part, _ in database_only[1]] == ["DATABASE"]


def test_latest_falls_back_to_scanning_on_a_server_without_filters(server, filterless, history):
    with appctl.Client(filterless, token=server["token"]) as plain:
        backup, parts = plain.backups.latest(application="example-application", environment="live")
        scanned = plain.transport.request_count
    assert backup.uuid == history["real"].uuid and len(parts) == 2
    assert scanned > 3  # every page of backups was read


def test_download_verifies_sha256_and_resumes(client, history, tmp_path):
    part = next(p for p in history["real"].service_instance_backups() if p.service_type == "DATABASE")
    target = tmp_path / "db.artifact"
    client.backups.download(history["real"].uuid, part.uuid, target)
    whole = target.read_bytes()
    assert hashlib.sha256(whole).hexdigest() == part.sha256
    partial = tmp_path / "again.artifact.part"
    partial.write_bytes(whole[:100])  # an interrupted earlier download
    client.backups.download(history["real"].uuid, part.uuid, tmp_path / "again.artifact")
    assert (tmp_path / "again.artifact").read_bytes() == whole


def test_reads_resend_their_etag_and_posts_carry_a_key(server, client):
    """A read made before is answered 304 without a body when nothing changed (what polls rely on); a
    POST carries an Idempotency-Key, so the server kept its answer for a retry."""
    test_env = client.applications.get_by_slug("example-application").environment("test")
    backup = client.backups.create(environment=test_env.uuid, notes="polled").wait(timeout=120)
    assert backup.completed
    not_modified = rf'"GET /apps/v3/backups/{backup.uuid}/? HTTP/1.1" 304 '

    def read_again_answered_304():
        # The worker may still touch the backup just after it completes: read until nothing changes.
        assert client.backups.get(backup.uuid).uuid == backup.uuid
        return re.search(not_modified, server["log"].read_text())

    wait_for(read_again_answered_304, timeout=20)
    kept = server_shell(
        server,
        "from appcontrol.accounts.models import IdempotentRequest\n"
        "print(IdempotentRequest.objects.filter(status_code=201).count())",
    )
    assert int(kept) >= 1, "appctl's POST carried no Idempotency-Key"


def test_restore_and_upload_wait_for_their_result(client, history, tmp_path):
    part = next(p for p in history["real"].service_instance_backups() if p.service_type == "STORAGE")
    test_env = client.applications.get_by_slug("example-application").environment("test")
    media = next(i for i in test_env.service_instances() if i.type == "STORAGE")
    restore = client.backups.restore(history["real"].uuid, [part.uuid], targets={part.uuid: media.uuid}).wait(60)
    assert restore.finished and restore.success == "SUCCESS"
    archive = tmp_path / "media.tar.gz"
    client.backups.download(history["real"].uuid, part.uuid, archive)
    before = archive.read_bytes()
    uploaded = client.backups.upload(environment=test_env.uuid, service_instance=media.uuid, path=archive).wait(60)
    assert uploaded.success == "SUCCESS" and uploaded.trigger == "UPLOAD"
    assert archive.read_bytes() == before  # the user's file is untouched


def test_errors_are_typed(server):
    with appctl.Client(server["url"], token="apc_wrong-token-000000000000") as client:
        with pytest.raises(appctl.Unauthorized) as error:
            next(client.applications.list())
    assert error.value.status == 401 and error.value.detail == "Invalid token."
    with appctl.Client(server["url"], token=server["token"]) as client, pytest.raises(appctl.NotFound):
        client.applications.get_by_slug("no-such-app")


def run_cli(server, *args, token=None, home=None):
    env = {"PATH": os.environ["PATH"], "HOME": str(home or "/nonexistent"), "COLUMNS": "200"}
    if token is not False:
        env["APPCTL_TOKEN"] = token or server["token"]
    return subprocess.run(
        [sys.executable, "-m", "appctl", "--url", server["url"], *args], env=env, capture_output=True, text=True
    )


def test_cli_backups_latest(server, history):
    result = run_cli(server, "backups", "latest", "--app", "example-application", "--env", "live")
    assert result.returncode == 0, result.stderr
    assert "DATABASE" in result.stdout and "STORAGE" in result.stdout
    as_json = json.loads(
        run_cli(server, "--json", "backups", "latest", "-a", "example-application", "-e", "live").stdout
    )
    assert {row["type"] for row in as_json} == {"DATABASE", "STORAGE"}
    assert all(row["backup"] == history["real"].uuid for row in as_json)


def test_cli_json_is_one_document_across_pages_and_jsonl_one_per_line(server, history):
    with appctl.Client(server["url"], token=server["token"]) as client:
        count = client.get("/apps/v3/backups/", environment=history["live"].uuid)["count"]
        everywhere = client.get("/apps/v3/backups/")["count"]
    listed = run_cli(server, "--json", "backups", "list", "-a", "example-application", "-e", "live")
    assert count > MANY and len(json.loads(listed.stdout)) == count
    lines = run_cli(server, "--jsonl", "backups", "list", "-a", "example-application", "-e", "live").stdout.splitlines()
    assert len(lines) == count and all(json.loads(line)["uuid"] for line in lines)
    merged = run_cli(server, "api", "GET", "/apps/v3/backups/", "--paginate", "-f", "page_size=50")
    assert len(json.loads(merged.stdout)) == everywhere


def test_cli_exit_codes_and_messages(server, history):
    wrong = run_cli(server, "apps", "list", token="apc_wrong-token-000000000000")
    assert wrong.returncode == 1 and "401" in wrong.stderr and "Traceback" not in wrong.stderr
    missing = run_cli(server, "apps", "list", token=False)
    assert missing.returncode == 1 and "appctl login" in missing.stderr
    usage = run_cli(server, "backups", "latest")
    assert usage.returncode == 2
    assert run_cli(server, "backups", "--help").returncode == 0


def test_cli_login_stores_the_token_in_netrc_like_divio_cli(server, tmp_path):
    login = run_cli(server, "login", "--token", server["token"], token=False, home=tmp_path)
    assert login.returncode == 0, login.stderr
    netrc = (tmp_path / ".netrc").read_text()
    assert "machine 127.0.0.1" in netrc and server["token"] in netrc
    assert oct((tmp_path / ".netrc").stat().st_mode & 0o777) == "0o600"
    whoami = run_cli(server, "--json", "whoami", token=False, home=tmp_path)
    assert json.loads(whoami.stdout)["email"] == "api@demo.example"


def owner_token(server) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "appcontrol", "tokens", "create", "owner@demo.example", "--name", "e2e"],
        env=server["env"], capture_output=True, text=True, check=True,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


def test_cli_orgs_regions_and_domains(server):
    orgs = json.loads(run_cli(server, "--json", "orgs", "list").stdout)
    assert [org["role"] for org in orgs] == ["member"]
    assert run_cli(server, "regions", "list").stdout.strip()
    domains = run_cli(server, "--json", "domains", "list", "-a", "example-application", "-e", "live")
    assert domains.returncode == 0 and json.loads(domains.stdout) == []


def test_cli_env_vars_hide_sensitive_values_unless_revealed(server):
    listed = json.loads(run_cli(server, "--json", "env-vars", "list", "-a", "example-application", "-e", "live").stdout)
    database = next(row for row in listed if row["name"] == "DATABASE_URL")
    assert database["is_sensitive"] and database["value"] == "(hidden)" and database["environment"] == "live"
    unknown = run_cli(server, "env-vars", "list", "-a", "example-application", "-e", "staging")
    assert unknown.returncode == 1 and "No environment 'staging'" in unknown.stderr
    as_member = run_cli(server, "env-vars", "list", "-a", "example-application", "--reveal")
    assert "owners and admins only" in as_member.stderr
    owner = owner_token(server)
    args = ["--json", "env-vars", "list", "-a", "example-application", "--name", "DATABASE_URL"]
    hidden = json.loads(run_cli(server, *args, token=owner).stdout)
    assert {row["environment"] for row in hidden} == {"live", "test"} and {row["value"] for row in hidden} == {
        "(hidden)"
    }
    revealed = json.loads(run_cli(server, *args, "--reveal", token=owner).stdout)
    assert all(row["value"] and row["value"] != "(hidden)" for row in revealed)


def test_cli_env_vars_set_from_arguments_and_a_dotenv_file_then_unset(server, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# settings\nexport MODE=production\nGREETING=\"hello\\nworld\" # said once\nRAW='a $b'\n")
    test = ["-a", "example-application", "-e", "test"]
    result = run_cli(server, "--json", "env-vars", "set", *test, "--from-file", str(dotenv), "EXTRA=x=y")
    assert result.returncode == 0, result.stderr
    assert {row["name"] for row in json.loads(result.stdout)} == {"MODE", "GREETING", "RAW", "EXTRA"}
    assert "Deploy to apply" in result.stderr
    listed = {
        row["name"]: row["value"] for row in json.loads(run_cli(server, "--json", "env-vars", "list", *test).stdout)
    }
    assert listed["GREETING"] == "hello\nworld" and listed["RAW"] == "a $b" and listed["EXTRA"] == "x=y"
    assert listed["MODE"] == "production"

    changed = run_cli(server, "env-vars", "set", *test, "MODE=staging", "--sensitive")
    assert changed.returncode == 0, changed.stderr
    secret = json.loads(run_cli(server, "--json", "env-vars", "list", *test, "--name", "MODE", "--reveal").stdout)
    assert secret[0]["is_sensitive"] and secret[0]["value"] is None  # write-only, even with --reveal

    unset = run_cli(server, "env-vars", "unset", *test, "MODE", "NEVER_SET")
    assert unset.returncode == 0 and "Removed MODE" in unset.stderr and "NEVER_SET" in unset.stderr
    reserved = run_cli(server, "env-vars", "set", *test, "PORT=1")
    assert reserved.returncode != 0 and "platform's" in reserved.stderr
    broken = tmp_path / "broken.env"
    broken.write_text('OK=1\nBAD="open\n')
    refused = run_cli(server, "env-vars", "set", *test, "--from-file", str(broken))
    assert refused.returncode == 2 and "line 2" in refused.stderr


def test_cli_templates_apps_create_envs_copy_and_activities(server):
    templates = json.loads(run_cli(server, "--json", "templates", "list").stdout)
    assert [row["identifier"] for row in templates] == ["demo-webapp"]
    organisation = json.loads(run_cli(server, "--json", "orgs", "list").stdout)[0]["uuid"]
    created = run_cli(
        server, "--json", "apps", "create", "from-cli", "--organisation", organisation, "--template", "demo-webapp"
    )
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    assert app["slug"] == "from-cli" and app["git_url"].endswith("/git/demo/from-cli.git")
    unknown = run_cli(server, "apps", "create", "other", "--organisation", organisation, "--template", "nope")
    assert unknown.returncode == 1 and "No template 'nope'" in unknown.stderr

    copied = run_cli(server, "--json", "envs", "copy", "preview", "-a", "from-cli", "-e", "test")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["slug"] == "preview"
    again = run_cli(server, "envs", "copy", "preview", "-a", "from-cli", "-e", "test")
    assert again.returncode == 1 and "already has an environment" in again.stderr

    activities = json.loads(run_cli(server, "--json", "activities", "list", "-a", "from-cli").stdout)
    assert [row["type"] for row in activities][:2] == ["environment.copied", "environment.created"]
    assert activities[-1]["type"] == "application.created" and activities[-1]["user_name"]


def test_cli_schedules_set_changes_only_what_is_given_and_creates_a_missing_one(server, history):
    app = ["-a", "example-application", "-e", "test"]
    changed = run_cli(server, "schedules", "set", *app, "--hour", "4", "--keep-daily", "3", "--disable")
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(run_cli(server, "--json", "schedules", "show", *app).stdout)
    assert (shown["environment"], shown["hour"], shown["keep_daily"], shown["keep_weekly"], shown["enabled"]) == (
        "test", 4, 3, 4, False,
    )  # fmt: skip
    listed = json.loads(run_cli(server, "--json", "schedules", "list", "-a", "example-application").stdout)
    assert sorted(row["environment"] for row in listed) == ["live", "test"]
    assert run_cli(server, "schedules", "set", *app).returncode == 2
    assert run_cli(server, "schedules", "set", *app, "--hour", "24").returncode == 2
    owner = owner_token(server)
    organisation = json.loads(run_cli(server, "--json", "orgs", "list").stdout)[0]["uuid"]
    assert (
        run_cli(server, "apps", "create", "scheduled-app", "--organisation", organisation, token=owner).returncode == 0
    )
    fresh = ["-a", "scheduled-app", "-e", "live"]
    assert run_cli(server, "schedules", "show", *fresh).returncode == 1  # no service instance, no schedule yet
    created = run_cli(server, "--json", "schedules", "set", *fresh, "--enable", "--hour", "1", token=owner)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["hour"] == 1
    assert run_cli(server, "apps", "delete", "scheduled-app", "--yes", token=owner).returncode == 0


def test_cli_domains_add_list_delete(server):
    env = ["-a", "example-application", "-e", "test"]
    added = run_cli(server, "--json", "domains", "add", "shop.example.com", *env, "--primary")
    assert added.returncode == 0, added.stderr
    domain = json.loads(added.stdout)
    assert domain["is_primary"] and domain["domain"] == "shop.example.com"
    listed = json.loads(run_cli(server, "--json", "domains", "list", *env).stdout)
    assert [row["uuid"] for row in listed] == [domain["uuid"]]
    duplicate = run_cli(server, "domains", "add", "shop.example.com", *env)
    assert duplicate.returncode == 1 and "400" in duplicate.stderr
    assert run_cli(server, "domains", "delete", domain["uuid"], "--yes").returncode == 0
    assert json.loads(run_cli(server, "--json", "domains", "list", *env).stdout) == []


def test_cli_deletes_need_the_owner_and_really_delete(server, history):
    owner = owner_token(server)
    organisation = json.loads(run_cli(server, "--json", "orgs", "list").stdout)[0]["uuid"]
    assert run_cli(server, "apps", "create", "throwaway", "--organisation", organisation, token=owner).returncode == 0
    created = run_cli(server, "--json", "service-instances", "create", "-a", "throwaway", "-e", "test",
                      "--service", "sqlite", token=owner)  # fmt: skip
    assert created.returncode == 0, created.stderr
    instance = json.loads(created.stdout)
    assert instance["service_status"] == "ATTACHED"
    shown = json.loads(run_cli(server, "--json", "service-instances", "show", instance["uuid"]).stdout)
    assert shown["uuid"] == instance["uuid"] and shown["type"] == "DATABASE"
    backup = json.loads(run_cli(server, "--json", "backups", "create", "-a", "throwaway", "-e", "test").stdout)
    refused = run_cli(server, "backups", "delete", backup["uuid"], "--yes")
    assert refused.returncode == 1 and "403" in refused.stderr
    assert run_cli(server, "backups", "delete", backup["uuid"], "--yes", token=owner).returncode == 0
    assert run_cli(server, "backups", "show", backup["uuid"]).returncode == 1
    assert run_cli(server, "service-instances", "delete", instance["uuid"], "--yes").returncode == 1
    assert run_cli(server, "service-instances", "delete", instance["uuid"], "--yes", token=owner).returncode == 0
    assert run_cli(server, "service-instances", "show", instance["uuid"]).returncode == 1
    assert run_cli(server, "apps", "delete", "throwaway", "--yes", token=owner).returncode == 0
