"""Keep a set of child processes running: restart the ones that may die, stop everything when one that
must not dies, or on SIGTERM/SIGINT. `appcontrol serve` runs the web server, worker and scheduler this way;
the coming reconciler of running applications will reuse it."""

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

POLL_SECONDS = 0.2
RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 15


@dataclass
class Program:
    name: str
    argv: list[str]
    essential: bool = False  # when it stops, everything stops; otherwise it is restarted
    env: dict[str, str] | None = None  # None: the supervisor's own environment


def _start(program: Program) -> subprocess.Popen:
    return subprocess.Popen(program.argv, env=program.env)


class Supervisor:
    def __init__(self, programs: list[Program], say: Callable[[str], None] = print):
        self.programs = {program.name: program for program in programs}
        self.say = say
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run(self) -> Program | None:
        """Run until stopped; return the essential program that stopped on its own, if that is why."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.processes = {
            name: subprocess.Popen(program.argv, env=program.env) for name, program in self.programs.items()
        }
        try:
            while not self.stopping:
                for name, process in list(self.processes.items()):
                    if process.poll() is None:
                        continue
                    program = self.programs[name]
                    if program.essential:
                        return program
                    # Jobs a dead worker was running are failed by the reaper once their heartbeat stops.
                    self.say(f"The {name} stopped (exit code {process.returncode}); restarting it.")
                    time.sleep(RESTART_DELAY_SECONDS)
                    self.processes[name] = _start(program)
                time.sleep(POLL_SECONDS)
            return None
        finally:
            self._terminate_all()

    def returncode(self, name: str) -> int | None:
        return self.processes[name].returncode

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _terminate_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
