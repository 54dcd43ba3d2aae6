"""Real git servers on loopback for the private repository tests: an `sshd` whose only command is git-shell,
and `git http-backend` behind an HTTP server that requires Basic authentication."""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def require(path: str, package: str) -> None:
    if not os.path.exists(path) or not shutil.which("ssh"):
        problem = f"{path} or ssh is missing (Debian: {package}, openssh-client)"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {problem}")
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_bare_repository(directory: Path) -> Path:
    """A bare repository with one commit on `main`."""
    work, bare = directory / "work", directory / "repo.git"
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True, env=env)
    (work / "README").write_text("private\n")
    subprocess.run(["git", "-C", str(work), "add", "README"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "commit", "-q", "-m", "first"], check=True, env=env)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True, env=env)
    return bare


class Sshd:
    """sshd on 127.0.0.1:<port> for root, by public key only, every session forced into git-shell."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.authorized_keys = directory / "authorized_keys"
        self.authorized_keys.write_text("")
        self.authorized_keys.chmod(0o600)
        self.repository = make_bare_repository(directory)
        self.process: subprocess.Popen | None = None
        self.new_host_key()

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{self.repository}"

    def authorize(self, public_key: str) -> None:
        self.authorized_keys.write_text(self.authorized_keys.read_text() + public_key + "\n")

    def new_host_key(self) -> None:
        key = self.directory / "host_key"
        key.unlink(missing_ok=True)
        key.with_suffix(".pub").unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)

    def start(self) -> None:
        config = self.directory / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{self.port}\n"
            f"HostKey {self.directory / 'host_key'}\n"
            f"PidFile {self.directory / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowUsers root\n"
            "DisableForwarding yes\nPermitTTY no\nPermitUserRC no\n"
            'ForceCommand /usr/bin/git-shell -c "$SSH_ORIGINAL_COMMAND"\n'
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        log = open(self.directory / "sshd.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        log.close()
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-2.0"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"sshd did not start: {(self.directory / 'sshd.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def sshd():
    require(SSHD, "openssh-server")
    directory = Path(tempfile.mkdtemp(prefix="appcontrol-sshd-"))
    server = Sshd(directory)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


class GitHttpServer:
    """`git http-backend` over HTTP on loopback, for one user name and password (Basic authentication)."""

    def __init__(self, directory: Path, username: str, password: str):
        self.repository = make_bare_repository(directory)
        self.root = directory
        expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(expected))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.repository.name}"

    def _handler(self, expected: str):
        root = self.root

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve()

            def do_POST(self):
                self._serve()

            def _serve(self):
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {
                    "PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "REMOTE_USER": "user",
                }  # fmt: skip
                output = subprocess.run([HTTP_BACKEND], input=body, env=env, capture_output=True, check=False).stdout
                head, _, content = output.partition(b"\r\n\r\n")
                headers = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
                status = next((int(value.split()[0]) for name, value in headers if name.lower() == "status"), 200)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() != "status":
                        self.send_header(name, value.strip())
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def git_http_server():
    require(HTTP_BACKEND, "git")
    directory = Path(tempfile.mkdtemp(prefix="appcontrol-githttp-"))
    server = GitHttpServer(directory, "deployer", "s3cret-token-Zq9")
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)
