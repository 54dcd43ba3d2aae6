"""PostgreSQL: one database and one login role per service instance.

The operator's DSN (APPCONTROL_POSTGRES_URL) creates, confines and removes databases and roles, and runs
nothing of a tenant's: everything that reads or runs a tenant's data — pg_dump, pg_restore, psql — connects
**as the instance's own role**, a plain login role that owns its database and may connect to no other
instance's database.
Restoring a dump *is* running the dump's SQL; run with the tenant's rights, `RESET ROLE`,
`COPY … PROGRAM`, `CREATE ROLE` or a superuser-only extension simply fail, and the restore with them.

Those tools run confined (`appcontrol.core.sandbox`), with the role's password in a 0600 PGPASSFILE that
names only that host, database and role — never on a command line or in the environment.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from django.conf import settings
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import check_deadline, scratch_directory, time_left
from appcontrol.core.sandbox import Child, Sandbox, child_environment, hand_over, private_directory

from .base import Engine, EngineError, variable_name
from .sql_script import ScriptError, confine_script

CHUNK = 1024 * 1024
CUSTOM_DUMP_MAGIC = b"PGDMP"
# psql learned `\restrict` (refuse every backslash command until `\unrestrict <key>`) in these releases.
PSQL_RESTRICT_SINCE = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}
RESTORE_PREAMBLE = b"SET client_min_messages = warning;\n"
# A restore fills a fresh database beside the instance's and swaps the two only when the script ran to its
# very end, so nothing a script does (a COMMIT of its own, a COPY that swallows the rest) can leave the
# instance's database half restored.
STAGING, RETIRED = "_restore_", "_retired_"
PSQL_LOCATION = re.compile(r"^psql:<stdin>:\d+: ", re.MULTILINE)


def _operator_params(dbname: str | None = None) -> dict:
    params = conninfo_to_dict(settings.APPCONTROL_POSTGRES_URL)
    if dbname:
        params["dbname"] = dbname
    params.setdefault("connect_timeout", "10")
    return params


def _tool(name: str) -> str:
    """The absolute path of a PostgreSQL client tool, from APPCONTROL_PG_BIN_DIR or the PATH.

    Debian's /usr/bin/psql is a Perl wrapper that reads /etc to pick a version; the sandbox runs the
    newest real binary instead.
    """
    path = shutil.which(name, path=settings.APPCONTROL_PG_BIN_DIR or None)
    if path is None:
        raise EngineError(f"{name} is not installed on the appcontrol server (or not in APPCONTROL_PG_BIN_DIR).")
    if os.path.realpath(path).endswith("/pg_wrapper"):
        versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
        if versions:
            return str(versions[-1])
    return path


def _tool_version(tool: str) -> tuple[int, int]:
    output = subprocess.run(
        [_tool(tool), "--version"], capture_output=True, text=True, check=True, env=child_environment(), timeout=30
    ).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", output) or re.search(r"(\d+)(?:\.(\d+))?", output)
    if match is None:
        raise EngineError(f"Cannot tell the version of {tool} from {output.strip()!r}.")
    return int(match.group(1)), int(match.group(2) or 0)


def _require_restrict_support() -> None:
    major, minor = _tool_version("psql")
    if major < 18 and minor < PSQL_RESTRICT_SINCE.get(major, 10**6):
        raise EngineError(
            f"psql {major}.{minor} cannot confine a restore script (\\restrict arrived in 13.22, 14.19, 15.14, "
            "16.10 and 17.6); install current PostgreSQL client tools on the appcontrol server."
        )


def _instance_password(instance) -> str:
    """The role's password, from the DATABASE_URL variable the instance published when provisioned."""
    for variable in instance.variables.all():
        if variable.name.endswith("DATABASE_URL"):
            password = urlsplit(variable.value).password
            if password:
                return unquote(password)
    raise EngineError("The credentials of this database service instance are missing; it cannot be reached.")


def _instance_params(instance) -> dict:
    operator = _operator_params()
    params = {
        "host": operator.get("host", "localhost"),
        "port": str(operator.get("port", 5432)),
        "dbname": instance.resource["database"],
        "user": instance.resource["role"],
        "password": _instance_password(instance),
    }
    for key in ("sslmode", "sslrootcert"):
        if key in operator:
            params[key] = operator[key]
    return params


def _create_database(admin, name: str, owner: str) -> None:
    admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
    _confine_database(admin, name, owner)


def _confine_database(admin, name: str, owner: str) -> None:
    """Only the instance's role (and the operator) may connect."""
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    admin.execute(
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(owner))
    )


def _database_comment(admin, name: str) -> str | None:
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return row[0] if row else None


def _swap_databases(admin, restored: str, database: str) -> None:
    """Put `restored` in the place of `database` in one transaction, then drop the old one. Its sessions are
    closed first (the data under them is being replaced); new ones wait out the swap, refused for a moment."""
    retired = database + RETIRED + secrets.token_hex(4)
    rename = sql.SQL("ALTER DATABASE {} RENAME TO {}")
    admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(database)))
    for attempt in range(10):
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
        try:
            with admin.transaction():
                admin.execute(rename.format(sql.Identifier(database), sql.Identifier(retired)))
                admin.execute(rename.format(sql.Identifier(restored), sql.Identifier(database)))
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 9:
                raise EngineError("The database stayed in use; the restored copy could not take its place.") from None
            time.sleep(0.2)
    admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(retired)))


def _passfile_line(params: dict) -> str:
    def escape(value) -> str:
        return str(value).replace("\\", "\\\\").replace(":", "\\:")

    fields = (params["host"], params["port"], params["dbname"], params["user"], params["password"])
    return ":".join(escape(field) for field in fields) + "\n"


@contextlib.contextmanager
def _libpq_child(params: dict, server_major: int):
    """The environment and sandbox for a tool connecting with `params`: a PGPASSFILE naming exactly this
    host, database and role; the network (or only the server's socket directory) and nothing else."""
    with private_directory() as private:
        passfile = private / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_passfile_line(params))
        hand_over(passfile)
        env = child_environment(
            PGHOST=params["host"], PGPORT=params["port"], PGDATABASE=params["dbname"], PGUSER=params["user"],
            PGPASSFILE=str(passfile), PGCONNECT_TIMEOUT="10", PGAPPNAME="appcontrol",
        )  # fmt: skip
        if server_major >= 14:
            # A killed client's session ends within seconds, even while it waits for a lock, so its
            # transaction rolls back and releases what it held.
            env["PGOPTIONS"] = "-c client_connection_check_interval=2000"
        for key, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
            if key in params:
                env[variable] = params[key]
        socket_directory = params["host"] if params["host"].startswith("/") else None
        read_only = (str(private), *((socket_directory,) if socket_directory else ()))
        yield env, Sandbox(read_only=read_only, network=socket_directory is None)


def _psql_errors(stderr: str) -> str:
    return PSQL_LOCATION.sub("", stderr).strip()


@contextlib.contextmanager
def _as_local_file(head: bytes, source, directory):
    """The whole artifact as a local file from its start: pg_restore reads a file, never a pipe that can
    be cut. A local file given by the caller is used as it is; any other stream is copied first."""
    try:
        source.fileno()
        source.seek(0)
        is_local_file = True
    except (AttributeError, OSError, ValueError):
        is_local_file = False
    if is_local_file:
        yield source
        return
    with tempfile.TemporaryFile(dir=directory) as copy:
        copy.write(head)
        shutil.copyfileobj(source, copy, CHUNK)
        copy.seek(0)
        yield copy


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
            return psycopg.connect(**_operator_params(dbname), autocommit=True)
        except psycopg.OperationalError as error:
            raise EngineError(f"Cannot connect to the PostgreSQL server: {str(error).strip()}") from None

    def provision(self, instance) -> dict[str, str]:
        name = f"si_{encode_id(instance.pk)}"
        password = secrets.token_urlsafe(24)
        with self._connect() as admin:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            instance.resource = {"database": name, "role": name}
            # Membership lets the operator's role create the database for it and manage its privileges.
            admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(name)))
            _create_database(admin, name, owner=name)
            self._confine_role(admin, name, password)
        params = _operator_params()
        host = settings.APPCONTROL_POSTGRES_PUBLIC_HOST or params.get("host", "localhost")
        port = params.get("port", 5432)
        url = f"postgres://{name}:{quote(password, safe='')}@{host}:{port}/{name}"
        return {variable_name(instance.prefix, "DATABASE"): url}

    def _confine_role(self, admin, name: str, password: str) -> None:
        """The instance's role may log in to its own database and do nothing beyond it; nobody else may
        connect there. The password goes over the wire already hashed (SCRAM), so no server log shows it."""
        role = sql.Identifier(name)
        verifier = admin.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
        admin.execute(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "INHERIT CONNECTION LIMIT -1 PASSWORD {}"
            ).format(role, sql.Literal(verifier))
        )
        _confine_database(admin, name, owner=name)
        # A restore closes its database for a moment; one interrupted then must not leave it closed.
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(role))

    def secure(self, instance) -> None:
        """Re-apply the role's limits and its recorded password; every dump and restore does this first, and
        `appcontrol service-instances secure` does it for instances provisioned by older versions."""
        name = instance.resource.get("role")
        if not name:
            return
        with self._connect() as admin:
            self._confine_role(admin, name, _instance_password(instance))

    def deprovision(self, instance) -> None:
        name = instance.resource.get("role")
        if not name:
            return
        with self._connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))

    def _check_versions(self, tool: str) -> int:
        """The server's major version, once it is known that `tool` can talk to it."""
        with self._connect() as admin:
            server = int(admin.execute("SHOW server_version_num").fetchone()[0]) // 10000
        local, _ = _tool_version(tool)
        if server > local:
            raise EngineError(
                f"The PostgreSQL server is version {server} but this host's {tool} is version {local}; "
                f"install {tool} {server} or newer on the appcontrol server."
            )
        return server

    def dump(self, instance, out) -> datetime:
        server = self._check_versions("pg_dump")
        self.secure(instance)
        argv = [
            _tool("pg_dump"), "--format=custom", f"--compress={settings.APPCONTROL_PG_DUMP_COMPRESSION}",
            "--no-owner", "--no-privileges", "--no-password",
        ]  # fmt: skip
        with _libpq_child(_instance_params(instance), server) as (env, sandbox):
            with Child(argv, sandbox, env, time_left(), stdout=subprocess.PIPE) as child:
                taken_at = timezone.now()  # pg_dump takes its snapshot as it starts
                while chunk := child.stdout_pipe.read(CHUNK):
                    out.write(chunk)
                result = child.wait()
        if result.timed_out:
            raise EngineError("pg_dump did not finish before the job's time limit and was stopped.")
        if result.returncode != 0:
            raise EngineError(f"pg_dump failed (exit code {result.returncode}): {result.stderr}")
        return taken_at

    def _confine(self, head: bytes, source, out) -> None:
        """Write the artifact to `out` (None: only check it) as a confined psql script: plain SQL is checked
        as it is copied; a custom-format dump is first turned into SQL by pg_restore (sandboxed, no network),
        and that SQL — which a crafted archive controls too — is checked the same way."""
        preamble = RESTORE_PREAMBLE if out is not None else b""
        try:
            if not head.startswith(CUSTOM_DUMP_MAGIC):
                confine_script(source, out, preamble, head=head, check=check_deadline)
            else:
                with _as_local_file(head, source, scratch_directory()) as dump:
                    self._convert_dump(dump, out, preamble)
        except ScriptError as error:
            raise EngineError(f"This SQL cannot be restored: {error}") from None

    def _convert_dump(self, dump, script, preamble: bytes) -> None:
        argv = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-"]
        with Child(argv, Sandbox(), child_environment(), time_left(), stdin=dump, stdout=subprocess.PIPE) as child:
            confine_script(child.stdout_pipe, script, preamble, check=check_deadline)  # refused: the child is killed
            result = child.wait()
        if result.timed_out:
            raise EngineError("pg_restore did not finish before the job's time limit and was stopped.")
        if result.returncode != 0:
            raise EngineError(f"pg_restore cannot read this dump: {result.stderr}")

    def restore(self, instance, source) -> None:
        """Run the confined script as the instance's role into a fresh database; swap it in for the instance's
        database only if psql succeeded and the script's last statement — a marker appended by the worker,
        with a key the script cannot know — ran. On any error, a timeout or a killed worker (the sandbox dies
        with it), the instance's database is untouched."""
        server = self._check_versions("psql")
        _require_restrict_support()
        head = source.read(len(CUSTOM_DUMP_MAGIC))
        database, role = instance.resource["database"], instance.resource["role"]
        staging, marker = f"{database}{STAGING}{secrets.token_hex(4)}", f"appcontrol-restore-{secrets.token_hex(16)}"
        self.discard_partial_restore(instance)
        self.secure(instance)
        with self._connect() as admin:
            _create_database(admin, staging, owner=role)
        try:
            self._run_script(instance, server, staging, head, source, marker)
            with self._connect() as admin:
                if _database_comment(admin, staging) != marker:
                    raise EngineError(
                        "The restore failed and was rolled back: the script did not run to its end "
                        "(its data swallowed what followed it)."
                    )
                admin.execute(sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(staging)))
                _swap_databases(admin, staging, database)
        except BaseException:
            with contextlib.suppress(EngineError, psycopg.Error):
                self.discard_partial_restore(instance)
            raise
        finally:
            self.secure(instance)  # a script may have changed the role's password

    def _run_script(self, instance, server: int, staging: str, head: bytes, source, marker: str) -> None:
        argv = [
            _tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--single-transaction",
            "--set=ON_ERROR_STOP=1", "--file=-",
        ]  # fmt: skip
        trailer = sql.SQL("COMMENT ON DATABASE {} IS {};\n").format(sql.Identifier(staging), sql.Literal(marker))
        params = {**_instance_params(instance), "dbname": staging}
        with _libpq_child(params, server) as (env, sandbox):
            with Child(argv, sandbox, env, time_left(), stdin=subprocess.PIPE) as psql:
                try:
                    self._confine(head, source, psql.stdin_pipe)
                    psql.stdin_pipe.write(trailer.as_string().encode())
                    psql.stdin_pipe.close()
                except BrokenPipeError:
                    pass  # psql stopped at an error (its message is read below) or at the deadline
                except EngineError:
                    psql.kill()  # the script was refused halfway
                    raise
                result = psql.wait()
        if result.timed_out:
            raise EngineError("The restore did not finish before the job's time limit; it was stopped and rolled back.")
        if result.returncode != 0:
            raise EngineError(f"The restore failed and was rolled back: {_psql_errors(result.stderr)}")

    def discard_partial_restore(self, instance) -> None:
        """Drop what an interrupted restore of this instance left: its staging or retired databases. Restores of
        one instance run one at a time, so any such database belongs to one that is over."""
        database = instance.resource.get("database")
        if not database:
            return
        with self._connect() as admin:
            leftovers = admin.execute(
                "SELECT datname FROM pg_database WHERE left(datname, length(%s)) = %s "
                "OR left(datname, length(%s)) = %s",
                [database + STAGING, database + STAGING, database + RETIRED, database + RETIRED],
            ).fetchall()
            for (name,) in leftovers:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def verify_artifact(self, source) -> None:
        """An upload must be restorable: a custom-format dump is read to its end by pg_restore (a truncated
        one fails here, not halfway through a restore), and its SQL, like plain SQL, holds no psql command."""
        head = source.read(4096)
        self.check_artifact(head)
        self._confine(head, source, None)

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
