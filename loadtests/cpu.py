"""Who used the CPU during a run: the server, PostgreSQL, Redis, wrk and the rest (Linux /proc).

Two snapshots of per-process CPU time, one before and one after a wrk run, give each group's
share of the machine. PostgreSQL backends serving the benchmark database are told apart from
the rest of the server by their process title (``postgres: user dbname host ...``). Work the
kernel does in soft interrupts (loopback TCP for both wrk and the server) belongs to no process
and is reported on its own, from /proc/stat.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    at: float
    busy: float  # seconds, all cores, from /proc/stat
    softirq: float
    processes: dict[int, tuple[str, float]]  # pid -> (group, CPU seconds so far)


def available() -> bool:
    return (PROC / "stat").exists()


def _system() -> tuple[float, float]:
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    busy = user + nice + system + irq + softirq + steal
    del idle, iowait
    return busy / TICK, softirq / TICK


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds)."""
    found: dict[int, tuple[str, int, float]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        # Fields after the name: state(0) ppid(1) ... utime(11) stime(12)
        found[int(entry.name)] = (comm, int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK)
    return found


def _cmdline(pid: int) -> str:
    try:
        return (
            (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def snapshot(*, server_pid: int | None, db_name: str) -> Snapshot:
    busy, softirq = _system()
    procs = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    server: set[int] = set()
    stack = [server_pid] if server_pid and server_pid in procs else []
    while stack:
        pid = stack.pop()
        server.add(pid)
        stack.extend(children.get(pid, []))
    ours = re.compile(rf"(^|\s){re.escape(db_name)}(\s|$)")
    titles = {
        pid: _cmdline(pid) for pid, (comm, _, _) in procs.items() if comm.startswith("postgres")
    }
    processes: dict[int, tuple[str, float]] = {}
    for pid, (comm, ppid, seconds) in procs.items():
        if pid in server:
            group = "server"
        elif pid in titles:
            # Backends carry the database name in their title; parallel workers name their
            # leader ("parallel worker for PID 123").
            title = titles[pid]
            leader = re.search(r"parallel worker for PID (\d+)", title)
            if leader:
                title = titles.get(int(leader.group(1)), "")
            group = "postgres_bench" if ours.search(title) else "postgres_other"
        elif comm.startswith("redis-server"):
            group = "redis"
        elif pid == os.getpid():
            group = "harness"
        elif pid == 2 or ppid == 2:
            group = "kernel"
        else:
            group = "foreign"
        processes[pid] = (group, seconds)
    return Snapshot(at=time.monotonic(), busy=busy, softirq=softirq, processes=processes)


GROUPS = ("server", "postgres_bench", "postgres_other", "redis", "harness", "kernel", "foreign")


def usage(before: Snapshot, after: Snapshot, *, wrk_cpu_s: float = 0.0) -> dict[str, float]:
    """Cores used on average between two snapshots, per group (2.0 = both cores of a 2-core box).

    ``foreign`` is every user process outside the benchmark (another user's tests, say), with
    PostgreSQL work for other databases added. ``unattributed`` is what no snapshot saw:
    processes that started and ended between the two, such as PostgreSQL's parallel query
    workers.
    """
    wall = after.at - before.at
    if wall <= 0:
        return {}
    shares = dict.fromkeys(GROUPS, 0.0)
    for pid, (group, seconds) in after.processes.items():
        # A process that started during the run counts from its start; one that ended is lost.
        shares[group] += (seconds - before.processes.get(pid, (group, 0.0))[1]) / wall
    shares["wrk"] = wrk_cpu_s / wall
    shares["softirq"] = (after.softirq - before.softirq) / wall
    shares["total_busy"] = (after.busy - before.busy) / wall
    known = sum(v for k, v in shares.items() if k != "total_busy")
    shares["unattributed"] = max(0.0, shares["total_busy"] - known)
    shares["foreign"] += shares.pop("postgres_other")
    return {k: round(v, 3) for k, v in shares.items()}


def foreign_share(usage: dict[str, float]) -> float:
    """Cores that went to processes outside the benchmark during a run.

    Short-lived processes nobody saw are counted as foreign too, unless the bench database was
    busy, in which case they are most likely its own parallel query workers.
    """
    foreign = usage.get("foreign", 0.0)
    if usage.get("postgres_bench", 0.0) < 0.05:
        foreign += usage.get("unattributed", 0.0)
    return foreign


class ForeignCpu:
    """CPU used by processes outside the benchmark while a block runs (cores, on average)."""

    def __init__(self, db_name: str) -> None:
        self.db_name = db_name
        self.cores = 0.0
        self.note = ""
        self._before: Snapshot | None = None

    def __enter__(self) -> ForeignCpu:
        self._before = snapshot(server_pid=None, db_name=self.db_name) if available() else None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._before is None:
            return
        after = snapshot(server_pid=None, db_name=self.db_name)
        self.cores = foreign_share(usage(self._before, after))
        if self.cores > 0.25:
            self.note = f"  [other processes used {self.cores:.2f} cores meanwhile]"
