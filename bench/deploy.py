"""A deployment's time split by step, and failed requests while a release is swapped under load, on the
`docker` and `swarm` drivers, against a real `appcontrol serve` (worker, router, reconciler) on 127.0.0.1.

    APPCONTROL_DOCKER_HOST=$(scripts/start-docker) .venv/bin/python bench/deploy.py [--rounds 3] [--seconds 10]

Needs the base image (scripts/base-image), Caddy 2.7+ (`pip install -e '.[router]'`) and `wrk`. Each round
starts a fresh server (SQLite, the demo's repository) per driver, the drivers in alternating order, and:
1. deploys `test` after a new commit (a build whose `COPY` layer is new; the base image's layers cached),
2. deploys `live` with build_mode AUTO (the same commit: the build is re-used),
3. redeploys `test` after another commit while wrk sends requests through the router for `--seconds`.
Step times are seen as a client sees them: the deployment is polled every 50 ms and each `status` change
timed. Figures are medians over the rounds.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from harness import APPCONTROL, free_port, fresh_environment, served

from appcontrol.runtime.docker_engine import DockerDriver
from appcontrol.runtime.swarm_engine import SwarmDriver

STEPS = ["queued", "fetching", "building", "releasing", "starting", "health-checking", "switching"]


def prepared(driver: str) -> tuple[dict, str]:
    """A fresh data dir with the demo (its repository cloned) for `driver`; returns its environment and token."""
    env = fresh_environment(sqlite=True)
    env.update(APPCONTROL_RUNTIME_DRIVER=driver, APPCONTROL_ROUTER_BIND=f"127.0.0.1:{free_port()}")
    env["APPCONTROL_DRAIN_SECONDS"] = "2"
    Path(env["APPCONTROL_DATA_DIR"]).chmod(0o755)
    subprocess.run([*APPCONTROL, "migrate", "-v0"], env=env, check=True)
    demo = subprocess.run([*APPCONTROL, "demo"], env=env, check=True, capture_output=True, text=True)
    return env, re.search(r"export TOKEN=(\S+)", demo.stdout)[1]


def commit(env: dict, message: str) -> None:
    repository = Path(env["APPCONTROL_DATA_DIR"]) / "demo-webapp"
    (repository / "VERSION").write_text(f"{message}\n")
    subprocess.run(
        [
            "git",
            "-C",
            str(repository),
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@example.com",
            "commit",
            "-qam",
            message,
        ],
        check=True,
    )


def deploy(api: httpx.Client, environment: str, build_mode: str = "AUTO") -> dict[str, float]:
    """Deploy and time each status as a client polling every 50 ms sees it; 'total' is POST to ended."""
    started = time.monotonic()
    deployment = api.post("/apps/v3/deployments/", json={"environment": environment, "build_mode": build_mode})
    deployment.raise_for_status()
    uuid = deployment.json()["uuid"]
    times, current, since = {}, "queued", started
    while True:
        body = api.get(f"/apps/v3/deployments/{uuid}/").json()
        now = time.monotonic()
        if body["status"] != current:
            times[current] = times.get(current, 0) + now - since
            current, since = body["status"], now
        if body["ended_at"]:
            if not body["success"]:
                raise SystemExit(f"deployment failed: {body['errors']}")
            times["total"] = now - started
            return times
        time.sleep(0.05)


def wrk(router: str, host: str, seconds: int) -> tuple[int, int]:
    """(requests, failed) for `seconds` of 4 connections through the router."""
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", "4", "-d", f"{seconds}s", "-H", f"Host: {host}", f"http://{router}/"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    requests = int(re.search(r"(\d+) requests in", result.stdout)[1])
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", result.stdout))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", result.stdout)
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return requests, failed


def swarm_ready() -> None:
    host = os.environ["APPCONTROL_DOCKER_HOST"]
    state = subprocess.run(["docker", "-H", host, "info", "--format", "{{.Swarm.LocalNodeState}}"],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    if state != "active":
        subprocess.run(["docker", "-H", host, "swarm", "init", "--advertise-addr", "127.0.0.1"], check=True)


def one_round(driver: str, seconds: int) -> dict:
    env, token = prepared(driver)
    with served(env, worker=True) as url:
        api = httpx.Client(base_url=url, headers={"authorization": f"Token {token}"}, timeout=30)
        application = api.get("/apps/v3/applications/?slug=example-application").json()["results"][0]["uuid"]
        listed = api.get(f"/apps/v3/environments/?application={application}").json()["results"]
        envs = {environment["slug"]: environment["uuid"] for environment in listed}
        commit(env, "bench 1")
        built = deploy(api, envs["test"])
        reused = deploy(api, envs["live"])
        commit(env, "bench 2")
        outcome = {}
        router, host = env["APPCONTROL_ROUTER_BIND"], "example-application-test.localhost"
        load = threading.Thread(target=lambda: outcome.update(load=wrk(router, host, seconds)))
        load.start()
        time.sleep(1)
        swapped = deploy(api, envs["test"])
        load.join()
        result = {"built": built, "reused": reused, "swapped": swapped, "load": outcome["load"]}
    engine = (SwarmDriver if driver == "swarm" else DockerDriver)(os.environ["APPCONTROL_DOCKER_HOST"])
    for running in engine.list():  # what the releases left running goes with the server
        engine.stop(running.name, grace_seconds=0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--drivers", nargs="+", default=["docker", "swarm"])
    options = parser.parse_args()
    if "APPCONTROL_DOCKER_HOST" not in os.environ:
        sys.exit("set APPCONTROL_DOCKER_HOST (scripts/start-docker prints it)")
    if "swarm" in options.drivers:
        swarm_ready()
    results: dict[str, list[dict]] = {driver: [] for driver in options.drivers}
    for number in range(options.rounds):
        order = options.drivers if number % 2 == 0 else list(reversed(options.drivers))
        for driver in order:
            results[driver].append(one_round(driver, options.seconds))
            print(f"round {number + 1} {driver} done", file=sys.stderr)
    for driver, rounds in results.items():
        print(f"\n{driver} (median of {len(rounds)} rounds, seconds)")
        for scenario in ("built", "reused", "swapped"):
            steps = [step for step in [*STEPS, "total"] if any(step in r[scenario] for r in rounds)]
            cells = [f"{step} {statistics.median(r[scenario].get(step, 0) for r in rounds):.2f}" for step in steps]
            print(f"  {scenario:8} " + ", ".join(cells))
        requests = [r["load"][0] for r in rounds]
        failed = [r["load"][1] for r in rounds]
        print(f"  swap under load: {statistics.median(requests):.0f} requests, failed {failed} (each round)")


if __name__ == "__main__":
    main()
