"""Is a web process up? Divio's rule: any HTTP answer counts except a 5xx other than 500 (an application
error page still proves the process serves)."""

import http.client
import socket
from dataclasses import dataclass

CONNECT_TIMEOUT_SECONDS = 0.4
RESPONSE_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class Probe:
    up: bool
    detail: str  # e.g. "HTTP 200", "connection refused"


def probe(
    port: int,
    path: str,
    host: str = "localhost",
    address: str = "127.0.0.1",
    response_timeout: float = RESPONSE_TIMEOUT_SECONDS,
) -> Probe:
    connection = http.client.HTTPConnection(address, port, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        connection.connect()
        connection.sock.settimeout(max(response_timeout, 0.1))
        connection.request("GET", path, headers={"Host": host, "User-Agent": "appcontrol-health-check"})
        status = connection.getresponse().status
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        return Probe(False, _describe(error))
    finally:
        connection.close()
    return Probe(status < 500 or status == 500, f"HTTP {status}")


def _describe(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer in time"
    return str(error) or type(error).__name__
