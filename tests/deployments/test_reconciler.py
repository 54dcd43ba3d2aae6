"""The reconciler makes what runs match the database: it restarts a release's web process that is gone,
removes containers no release uses, and loads the router's routes again after Caddy lost them."""

import time

from appcontrol.deployments.reconciler import reconcile
from appcontrol.runtime.caddy import CaddyAdmin, bootstrap_configuration
from appcontrol.runtime.specs import Limits, ProcessSpec

from .fixtures import through_router
from .helpers import deploy


def test_a_release_whose_process_is_gone_is_started_again(world, run_jobs, engine, deployable, settings):
    test = world.apps["acme"].environments.get(slug="test")
    assert deploy(world, run_jobs, test)["success"] is True
    (running,) = engine.list()
    engine.stop(running.name, grace_seconds=0)
    assert through_router(settings, test)[0] == 502

    assert reconcile() == [f"restarted {running.name}, which had stopped"]
    deadline = time.monotonic() + 30  # the process takes a moment to listen again (longer on a busy machine)
    while through_router(settings, test)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert through_router(settings, test)[1].startswith("version=1 stage=test")
    assert reconcile() == []  # nothing more to do


def test_containers_no_release_uses_are_removed(world, run_jobs, engine, deployable):
    test = world.apps["acme"].environments.get(slug="test")
    deploy(world, run_jobs, test)
    stray = ProcessSpec(
        name="appcontrol-stray-web",
        image="appcontrol/base:bookworm",
        environment={},
        limits=Limits(memory_bytes=64 * 1024**2),
        command=["sleep", "600"],
        labels={"org.appcontrol.deployment": "nobody"},
    )
    engine.start(stray)
    assert reconcile() == ["removed appcontrol-stray-web, which no release uses"]
    assert [running.name for running in engine.list()] != [] and engine.state("appcontrol-stray-web") is None


def test_routes_come_back_after_the_router_lost_them(world, run_jobs, engine, deployable, settings):
    test = world.apps["acme"].environments.get(slug="test")
    deploy(world, run_jobs, test)
    admin = CaddyAdmin(str(settings.APPCONTROL_ROUTER_ADMIN_SOCKET))
    admin.load(bootstrap_configuration(str(settings.APPCONTROL_ROUTER_ADMIN_SOCKET)))  # as after a restart

    assert reconcile() == ["loaded the router's routes"]
    assert through_router(settings, test)[1].startswith("version=1 stage=test")


def test_a_container_removed_while_being_listed_is_left_out(engine, monkeypatch):
    """Listing inspects each container: one that ended in between (a one-off, a retired release) is not an
    error for the reconciler, nor for whoever lists."""
    listed = [{"Id": "0" * 64, "Labels": {}}]
    monkeypatch.setattr(engine.client.api, "containers", lambda **options: listed)
    assert engine.list() == []
