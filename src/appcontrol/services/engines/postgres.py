"""PostgreSQL: one database and one login role per service instance, dumped with pg_dump.

The operator's DSN (APPCONTROL_POSTGRES_URL) must be allowed to create databases and roles. Dumps
and restores connect with it and act as the instance's role (`SET ROLE`), so restored objects
belong to the application's role. Passwords travel in a temporary 0600 PGPASSFILE, never on a
command line or in the environment where `ps` would show them.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from datetime import datetime
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from appcontrol.core.ids import encode_id

from .base import Engine, EngineError, variable_name

CHUNK = 1024 * 1024
CUSTOM_DUMP_MAGIC = b"PGDMP"


def _admin_params(dbname: str | None = None) -> dict:
    params = conninfo_to_dict(settings.APPCONTROL_POSTGRES_URL)
    if dbname:
        params["dbname"] = dbname
    params.setdefault("connect_timeout", "10")
    return params


def _tool(name: str) -> str:
    """The absolute path of a PostgreSQL client tool, from APPCONTROL_PG_BIN_DIR or the PATH."""
    path = shutil.which(name, path=settings.APPCONTROL_PG_BIN_DIR or None)
    if path is None:
        raise EngineError(f"{name} is not installed on the appcontrol server (or not in APPCONTROL_PG_BIN_DIR).")
    return path


def _tool_major_version(tool: str) -> int:
    output = subprocess.run([_tool(tool), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output) or re.search(r"(\d+)", output)
    if match is None:
        raise EngineError(f"Cannot tell the version of {tool} from {output.strip()!r}.")
    return int(match.group(1))


@contextlib.contextmanager
def _client_environment(params: dict):
    """Environment for libpq tools: connection settings, and the password in a 0600 PGPASSFILE."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(
        PGHOST=params.get("host", "localhost"),
        PGPORT=str(params.get("port", 5432)),
        PGUSER=params.get("user", "postgres"),
        PGDATABASE=params["dbname"],
        PGCONNECT_TIMEOUT=str(params.get("connect_timeout", 10)),
    )
    password = params.get("password")
    if not password:
        yield env
        return
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    with tempfile.NamedTemporaryFile("w", prefix="pgpass-", delete=True) as passfile:
        os.chmod(passfile.name, 0o600)
        passfile.write(f"*:*:*:*:{escaped}\n")
        passfile.flush()
        env["PGPASSFILE"] = passfile.name
        yield env


def _stderr_text(handle) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace").strip()
    return text[-2000:]


class PostgresEngine(Engine):
    name = "postgres"
    artifact_extension = "dump"

    def is_configured(self) -> bool:
        return bool(settings.APPCONTROL_POSTGRES_URL)

    def _require_configured(self):
        if not self.is_configured():
            raise EngineError("PostgreSQL service instances need APPCONTROL_POSTGRES_URL on the server.")

    def _connect(self, dbname: str | None = None):
        self._require_configured()
        try:
            return psycopg.connect(**_admin_params(dbname), autocommit=True)
        except psycopg.OperationalError as error:
            raise EngineError(f"Cannot connect to the PostgreSQL server: {str(error).strip()}") from None

    def provision(self, instance) -> dict[str, str]:
        name = f"si_{encode_id(instance.pk)}"
        password = secrets.token_urlsafe(24)
        role, database = sql.Identifier(name), sql.Identifier(name)
        with self._connect() as admin:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password)))
            instance.resource = {"database": name, "role": name}
            # Membership lets the operator's role act as the instance's role in dumps and restores.
            admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        params = _admin_params()
        host = settings.APPCONTROL_POSTGRES_PUBLIC_HOST or params.get("host", "localhost")
        port = params.get("port", 5432)
        url = f"postgres://{name}:{quote(password, safe='')}@{host}:{port}/{name}"
        return {variable_name(instance.prefix, "DATABASE"): url}

    def deprovision(self, instance) -> None:
        name = instance.resource.get("role")
        if not name:
            return
        with self._connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))

    def _check_versions(self, tool: str) -> None:
        with self._connect() as admin:
            server = int(admin.execute("SHOW server_version_num").fetchone()[0]) // 10000
        local = _tool_major_version(tool)
        if server > local:
            raise EngineError(
                f"The PostgreSQL server is version {server} but this host's {tool} is version {local}; "
                f"install {tool} {server} or newer on the appcontrol server."
            )

    def dump(self, instance, out) -> datetime:
        self._check_versions("pg_dump")
        params = _admin_params(instance.resource["database"])
        argv = [
            _tool("pg_dump"), "--format=custom", f"--compress={settings.APPCONTROL_PG_DUMP_COMPRESSION}",
            "--no-owner", "--no-privileges",
        ]  # fmt: skip
        with _client_environment(params) as env, tempfile.TemporaryFile() as stderr:
            taken_at = timezone.now()  # pg_dump takes its snapshot as it starts
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=env)
            try:
                while chunk := process.stdout.read(CHUNK):
                    out.write(chunk)
            except BaseException:
                process.kill()
                raise
            finally:
                process.stdout.close()
                returncode = process.wait()
            if returncode != 0:
                raise EngineError(f"pg_dump failed (exit code {returncode}): {_stderr_text(stderr)}")
        return taken_at

    def restore(self, instance, source) -> None:
        """Replay the artifact through psql in one transaction: on any error nothing changes.

        The role's objects are dropped first (`DROP OWNED`), inside the same transaction, so the
        database ends up exactly as dumped. A custom-format dump is turned into SQL by pg_restore.
        """
        self._check_versions("pg_restore")
        role = instance.resource["role"]
        params = _admin_params(instance.resource["database"])
        head = source.read(len(CUSTOM_DUMP_MAGIC))
        preamble = (
            sql.SQL("SET ROLE {role};\nDROP OWNED BY {role};\nCREATE SCHEMA IF NOT EXISTS public;\n")
            .format(role=sql.Identifier(role))
            .as_string()
            .encode()
        )
        psql_argv = [_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
        with (
            _client_environment(params) as env,
            tempfile.TemporaryFile() as psql_errors,
            tempfile.TemporaryFile() as restore_errors,
        ):
            psql = subprocess.Popen(
                psql_argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env
            )
            converter = None
            try:
                psql.stdin.write(preamble)
                if head == CUSTOM_DUMP_MAGIC:
                    converter = subprocess.Popen(
                        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=restore_errors, env=env,
                    )  # fmt: skip
                    feeder = threading.Thread(target=_feed, args=(head, source, converter.stdin), daemon=True)
                    feeder.start()
                    while chunk := converter.stdout.read(CHUNK):
                        psql.stdin.write(chunk)
                    feeder.join()
                else:
                    psql.stdin.write(head)
                    while chunk := source.read(CHUNK):
                        psql.stdin.write(chunk)
                psql.stdin.close()
            except BrokenPipeError:
                pass  # psql stopped on an error; its message is read below
            finally:
                if converter is not None and converter.wait() != 0:
                    psql.kill()
                    psql.wait()
                    raise EngineError(f"pg_restore could not read the dump: {_stderr_text(restore_errors)}")
                returncode = psql.wait()
            if returncode != 0:
                raise EngineError(f"The restore failed and was rolled back: {_stderr_text(psql_errors)}")

    def verify_artifact(self, source) -> None:
        """pg_restore must read a custom-format dump to its end (a truncated one fails here, not halfway
        through a restore); plain SQL is checked by its start."""
        head = source.read(4096)
        self.check_artifact(head)
        if not head.startswith(CUSTOM_DUMP_MAGIC):
            return
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                [_tool("pg_restore"), "--file=-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
            )
            _feed(head, source, process.stdin)
            if process.wait() != 0:
                raise EngineError(f"pg_restore cannot read this dump: {_stderr_text(errors)}")

    def check_artifact(self, head: bytes) -> None:
        if head.startswith(CUSTOM_DUMP_MAGIC):
            return
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # a multi-byte character may be cut at the end
                raise EngineError("This is neither a PostgreSQL custom-format dump nor plain SQL.") from None
        if b"\x00" in head:
            raise EngineError("This is neither a PostgreSQL custom-format dump nor plain SQL.")


def _feed(head: bytes, source, sink) -> None:
    try:
        sink.write(head)
        while chunk := source.read(CHUNK):
            sink.write(chunk)
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            sink.close()
