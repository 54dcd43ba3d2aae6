"""End to end: `appcontrol serve` with several web server processes spreads connections over all of them."""

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import running_server

LISTENING, ESTABLISHED = "0A", "01"


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("appcontrol-processes"), workers=2) as running:
        yield running


def web_processes(server) -> list[int]:
    """The gunicorn processes that serve requests (the children of its master)."""
    children = subprocess.run(["pgrep", "-P", str(server["process"].pid), "-f", "gunicorn"], capture_output=True)
    master = int(children.stdout.split()[0])
    workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in workers]


def sockets_on(pid: int, port: int) -> list[tuple[str, str]]:
    """(TCP state, inode) of each of the process's sockets on `port`."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        target = descriptor.readlink().name if descriptor.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and inode in inodes:
                found.append((state, inode))
    return found


def test_each_process_listens_on_its_own_socket_and_kept_alive_connections_spread(two_processes):
    """On one shared socket, a burst of new connections could all be accepted by one process and stay
    there (kept alive), leaving the other process idle: half the throughput on two cores."""
    port = int(two_processes["url"].rsplit(":", 1)[1])
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(40)]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:  # a request on each, kept alive
            connection.request("GET", "/apps/v3/")
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("Connection") != "close"
            response.read()
        processes = web_processes(two_processes)
        assert len(processes) == 2
        sockets = [sockets_on(pid, port) for pid in processes]
        listening = [{inode for state, inode in found if state == LISTENING} for found in sockets]
        assert [len(inodes) for inodes in listening] == [1, 1] and listening[0] != listening[1], sockets
        established = [sum(state == ESTABLISHED for state, _ in found) for found in sockets]
        assert sum(established) == 40, sockets
        assert min(established) >= 5, established  # spread by a hash: all on one process has odds of 2^-39
    finally:
        for connection in connections:
            connection.close()


def test_a_second_server_on_the_same_port_is_refused(two_processes):
    """Sockets that share a port would let a second server quietly take half of the first one's
    connections: `serve` refuses to start instead."""
    bind = two_processes["url"].removeprefix("http://")
    second = subprocess.Popen(
        [sys.executable, "-m", "appcontrol", "serve", "--bind", bind, "--workers", "2", "--no-worker"],
        env=two_processes["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # if it did start, everything it started is stopped below
    )
    try:
        _, stderr = second.communicate(timeout=60)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()
    assert second.returncode not in (None, 0)
    assert f"Cannot listen on {bind}: another server is listening there." in stderr
    assert "Traceback" not in stderr
