"""Where the server URL and the token come from.

URL: the explicit argument, then APPCTL_URL, then what `appctl login` saved.
Token: the explicit argument, then APPCTL_TOKEN, then ~/.netrc (or $NETRC) for the server's host —
the same entry divio-cli reads, so one login serves both tools.
"""

import json
import netrc
import os
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_config_path

from .errors import ConfigurationError

DEFAULT_URL = "http://127.0.0.1:8000"


def config_file() -> Path:
    return user_config_path("appctl") / "config.json"


def netrc_path() -> Path:
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def saved_url() -> str | None:
    try:
        return json.loads(config_file().read_text()).get("url")
    except (OSError, ValueError):
        return None


def resolve_url(url: str | None = None) -> str:
    return (url or os.environ.get("APPCTL_URL") or saved_url() or DEFAULT_URL).rstrip("/")


def netrc_token(url: str) -> str | None:
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        entry = netrc.netrc(netrc_path()).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    return entry[2] if entry else None


def resolve_token(url: str, token: str | None = None) -> str:
    token = token or os.environ.get("APPCTL_TOKEN") or netrc_token(url)
    if not token:
        raise ConfigurationError(f"No token for {url}: run `appctl login --url {url}`, or set APPCTL_TOKEN.")
    return token


def save_login(url: str, login: str, token: str) -> Path:
    """Write the netrc entry for the server's host (keeping every other entry) and remember the URL."""
    host = urlsplit(url).hostname
    path = netrc_path()
    lines = path.read_text().splitlines() if path.exists() else []
    kept, skipping = [], False
    for line in lines:
        words = line.split()
        if words[:1] == ["machine"]:
            skipping = len(words) > 1 and words[1] == host
        elif words[:1] == ["default"]:
            skipping = False
        if not skipping:
            kept.append(line)
    kept += [f"machine {host}", f"  login {login}", f"  password {token}"]
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(kept) + "\n")
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"url": url}))
    return path
