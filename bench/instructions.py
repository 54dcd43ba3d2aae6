"""Instructions the server's process runs per request, for the seed's four lookups and the public API root,
counted by valgrind's callgrind: for one tree or several compared like with like.

    [DATABASE_URL=postgres://...] .venv/bin/python bench/instructions.py [--tree PATH ...] [--requests 200]

Needs valgrind (Debian: `apt install valgrind`). Timings on these machines swing by a fifth from run to run,
more than most changes weigh; an instruction count is the same on every run (within a few tenths of a
percent) whatever else the machine does, so two versions' small differences show. Each tree is seeded as
bench/lookup_cost.py seeds it, and runs, each in a fresh process under callgrind: once with the warm-up (100
of each request) alone, then once per request with the warm-up and `--requests` more of that request; a
figure is the difference divided by `--requests`. Slow: a minute or two a run.

What it counts: the web process's own instructions in user space (Python, Django, the database driver). Not
the database's work (PostgreSQL's own processes), not the kernel's (the round trips), and not what an
instruction costs: a lookup's instructions cost more time each than the root's (see bench/README), so
compare time with lookup_cost.py and load.py.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from load import RATE_LIMITS, seeded
from lookup_cost import REQUESTS

COUNT = (
    REQUESTS
    + """
for path, auth in requests.values():
    for _ in range(100):
        get(path, auth)
if len(sys.argv) > 2:
    path, auth = requests[sys.argv[2]]
    for _ in range(int(sys.argv[3])):
        get(path, auth)
"""
)
NAMES = [
    "API root (no token)",
    "application by slug",
    "environments of an application",
    "latest successful backup",
    "parts of a backup",
]


def instructions(env: dict, *args: str) -> int:
    """Instructions callgrind counted over a whole run of COUNT with `args`."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", COUNT, *args],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return int(re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to measure (repeat to compare)")
    parser.add_argument("--requests", type=int, default=200, help="requests counted of each (default %(default)s)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt install valgrind)")
    trees = [tree.resolve() for tree in (args.tree or [Path(__file__).resolve().parents[1]])]
    settings = {**RATE_LIMITS["off"], "DJANGO_SETTINGS_MODULE": "appcontrol.settings"}
    prepared = [seeded(tree, index, settings) for index, tree in enumerate(trees)]

    counted: dict[Path, dict[str, float]] = {}
    for tree, env, token in prepared:
        warm_up = instructions(env, token)
        counted[tree] = {
            name: (instructions(env, token, name, str(args.requests)) - warm_up) / args.requests for name in NAMES
        }

    print(f"instructions per request (callgrind), {args.requests} requests of each after the warm-up")
    print(f"\n{'request':34}" + "".join(f" {str(tree)[-24:]:>24}" for tree in trees))
    for name in NAMES:
        print(f"{name:34}" + "".join(f" {counted[tree][name]:24,.0f}" for tree in trees))


if __name__ == "__main__":
    main()
