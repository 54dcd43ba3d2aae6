"""Signed links work for whoever holds them: no log line may carry one."""

import copy
import io
import logging
import logging.config

from django.conf import settings

from appcontrol.core.log_redaction import AccessLogger, redact_links

TOKEN = "eyJpdGVtIjoiYWJjIn0:1vQfH2:Xk3kRzA2-secret"


def test_django_request_warnings_are_redacted(monkeypatch):
    """`Not Found: <path>` comes from Django's own logger, whose default handlers do not redact."""
    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = "INFO"
    logging.config.dictConfig(config)
    stream = io.StringIO()
    try:
        for handler in logging.getLogger().handlers + logging.getLogger("django").handlers:
            monkeypatch.setattr(handler, "stream", stream)
        logging.getLogger("django.request").warning("Not Found: %s", f"/apps/v3/artifacts/{TOKEN}/")
        logging.getLogger("appcontrol").warning("upload %s failed", f"/apps/v3/uploads/{TOKEN}/finish/")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "Not Found: /apps/v3/artifacts/…/" in output and "/apps/v3/uploads/…/finish/" in output


def test_the_access_log_is_redacted():
    class Response:
        status, sent, headers = "200 OK", 10, []

    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/apps/v3/artifacts/{TOKEN}/", "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/apps/v3/artifacts/{TOKEN}/", "HTTP_REFERER": f"http://x/apps/v3/uploads/{TOKEN}/",
    }  # fmt: skip

    class Delta:
        seconds, microseconds = 0, 5

    atoms = AccessLogger.atoms(AccessLogger.__new__(AccessLogger), Response(), {}, environ, Delta())
    assert TOKEN not in " ".join(str(value) for value in atoms.values())
    assert atoms["r"] == "GET /apps/v3/artifacts/…/ HTTP/1.1"


def test_only_the_token_goes():
    assert redact_links(f"GET /apps/v3/backups/?page=2 /apps/v3/artifacts/{TOKEN}") == (
        "GET /apps/v3/backups/?page=2 /apps/v3/artifacts/…"
    )
