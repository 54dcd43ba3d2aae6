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
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from django.conf import settings
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import scratch_directory, time_left
from appcontrol.core.sandbox import Child, Sandbox, child_environment, hand_over, private_directory

from .base import Engine, EngineError, variable_name
from .sql_script import ScriptError, confine_script

CHUNK = 1024 * 1024
CUSTOM_DUMP_MAGIC = b"PGDMP"
# psql learned `\restrict` (refuse every backslash command until `\unrestrict <key>`) in these releases.
PSQL_RESTRICT_SINCE = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}
# The script runs in one transaction that starts by dropping what the role owns, so the database ends up
# exactly as the script leaves it. Only the worker writes COMMIT, once the whole script has passed: if the
# stream stops early (a refused or unreadable artifact, a killed worker), psql meets its end inside the
# transaction and the server rolls it back.
RESTORE_PREAMBLE = (
    b"BEGIN;\nSET client_min_messages = warning;\nDROP OWNED BY CURRENT_USER;\nCREATE SCHEMA IF NOT EXISTS public;\n"
)
RESTORE_END = b"COMMIT;\n"
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
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
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
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(role))
        admin.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(role, role))

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
                confine_script(source, out, preamble, head=head)
            else:
                with _as_local_file(head, source, scratch_directory()) as dump:
                    self._convert_dump(dump, out, preamble)
        except ScriptError as error:
            raise EngineError(f"This SQL cannot be restored: {error}") from None

    def _convert_dump(self, dump, script, preamble: bytes) -> None:
        argv = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-"]
        with Child(argv, Sandbox(), child_environment(), time_left(), stdin=dump, stdout=subprocess.PIPE) as child:
            confine_script(child.stdout_pipe, script, preamble)  # a refused script: the child is killed
            result = child.wait()
        if result.timed_out:
            raise EngineError("pg_restore did not finish before the job's time limit and was stopped.")
        if result.returncode != 0:
            raise EngineError(f"pg_restore cannot read this dump: {result.stderr}")

    def restore(self, instance, source) -> None:
        """Stream the confined script into psql, running as the instance's role, in one transaction that only
        the final COMMIT ends: on any error, a timeout or a killed worker (the sandbox dies with it), nothing
        changes."""
        server = self._check_versions("psql")
        _require_restrict_support()
        head = source.read(len(CUSTOM_DUMP_MAGIC))
        self.secure(instance)
        argv = [_tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--file=-"]
        with _libpq_child(_instance_params(instance), server) as (env, sandbox):
            with Child(argv, sandbox, env, time_left(), stdin=subprocess.PIPE) as psql:
                try:
                    self._confine(head, source, psql.stdin_pipe)
                    psql.stdin_pipe.write(RESTORE_END)
                    psql.stdin_pipe.close()
                except BrokenPipeError:
                    pass  # psql stopped at an error (its message is read below) or at the deadline
                except EngineError:
                    psql.kill()  # the script was refused halfway: end the transaction unfinished
                    raise
                result = psql.wait()
        if result.timed_out:
            raise EngineError("The restore did not finish before the job's time limit; it was stopped and rolled back.")
        if result.returncode != 0:
            raise EngineError(f"The restore failed and was rolled back: {_psql_errors(result.stderr)}")

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
