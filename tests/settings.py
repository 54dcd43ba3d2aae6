"""Test settings: the product's settings with a throw-away data dir and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("APPCONTROL_DATA_DIR", tempfile.mkdtemp(prefix="appcontrol-test-"))
# As a data dir made by `mkdir` would be: confined git (the sandbox's unprivileged uid) reaches the mirrors.
os.chmod(os.environ["APPCONTROL_DATA_DIR"], 0o755)  # noqa: S103

from appcontrol.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "ERROR"  # noqa: F405 - 404s and 401s are expected in tests

# No container engine or router unless a test configures one (tests/deployments/engine.py).
APPCONTROL_DOCKER_HOST = ""
APPCONTROL_ROUTER = "off"

# Jobs run inline when their transaction commits (tests wrap calls in django_capture_on_commit_callbacks);
# the end-to-end tests run the real database-backed worker.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
