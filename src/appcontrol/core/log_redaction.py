"""Signed download and upload links work for whoever holds them, for an hour: they never reach a log.

Requests are logged by path (gunicorn's access log, Django's "Not Found: …" warnings); the link's token
is replaced there by `…`, leaving the kind of link visible.
"""

import logging
import re

from gunicorn import glogging

LINK_TOKEN = re.compile(r"(/apps/v3/(?:artifacts|uploads)/)[^/\s?\"']+")


def redact_links(text: str) -> str:
    return LINK_TOKEN.sub(r"\1…", text)


class RedactLinks(logging.Filter):
    """A logging filter for every handler: the formatted message, with link tokens removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_links(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class AccessLogger(glogging.Logger):
    """gunicorn's logger (`appcontrol serve` uses it), with link tokens removed from the access log and from
    its error log ("Error handling request /apps/v3/artifacts/…")."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactLinks())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # The user name of HTTP Basic credentials: git users may put their token there (`https://<token>@…`).
        atoms["u"] = "-"
        # Every field a log format may use: the request line, path, referer, headers, environ.
        return {key: redact_links(value) if isinstance(value, str) else value for key, value in atoms.items()}
