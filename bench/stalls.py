"""The machine's own floor: how long a CPU can be taken from the highest-priority thread.

    .venv/bin/python bench/stalls.py [--seconds 30]

One child per CPU, pinned to it, at the highest SCHED_FIFO priority it may take (normal
priority if none: then it says so), wakes every millisecond on absolute targets and keeps
each wake-up that came more than 0.5 ms late: when it was due, how late, and how much of
that it spent runnable but waiting for its CPU (the kernel's run_delay, from schedstat).

A late wake-up with no such wait means the timer itself fired late, which is what the host
taking the vCPU ("steal") looks like from inside; a long stretch with interrupts off, or a
firmware interrupt, would look the same. A host stall that begins after the wake-up counts as
waiting, so "never waited" undercounts the host's share. bench/load.py runs this monitor
beside each player and tells which late rows fell in a stall.

Sleeping, it costs ~1,000 short wake-ups a second per CPU, not a core (a spinner would take
a whole CPU away from the load it watches).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TICK_NS = 1_000_000
KEPT_NS = 500_000  # a wake-up later than this is kept
# RT throttling (sched_rt_runtime_us) never touches a thread that sleeps 99.9 % of the time.


@dataclass(frozen=True, slots=True)
class Stall:
    cpu: int
    due_ns: int  # perf_counter_ns (CLOCK_MONOTONIC, the same in every process)
    late_ns: int
    queued_ns: int | None  # of late_ns, the time runnable but waiting for the CPU (None: unknown)

    @property
    def end_ns(self) -> int:
        return self.due_ns + self.late_ns

    @property
    def never_waited(self) -> bool:
        """The timer fired late: the watcher was not kept waiting by another thread."""
        return self.queued_ns is not None and self.queued_ns < self.late_ns // 10


def watch_cpu(cpu: int, seconds: float, out: Path) -> None:
    """The child: pinned, at the top real-time priority it may take, waking every TICK_NS."""
    halt = False

    def stop(*_: object) -> None:
        nonlocal halt
        halt = True

    signal.signal(signal.SIGTERM, stop)  # first: a stop that comes early still writes `out`
    parent = os.getppid()
    os.sched_setaffinity(0, {cpu})
    policy = real_time_priority()
    stalls: list[tuple[int, int, int | None]] = []
    schedstat = open_schedstat()
    start = time.perf_counter_ns()
    end = start + int(seconds * 1e9)
    due = start
    queued = run_delay_ns(schedstat)
    while not halt and due < end:
        due += TICK_NS
        wait = due - time.perf_counter_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        late = time.perf_counter_ns() - due
        was_queued, queued = queued, run_delay_ns(schedstat)
        if late > KEPT_NS:
            waited = None if queued is None or was_queued is None else queued - was_queued
            stalls.append((due, late, waited))
            due += late - late % TICK_NS  # go on from now: one stall is one entry
        if due % (1000 * TICK_NS) < TICK_NS and os.getppid() != parent:
            break  # the bench is gone (killed): don't outlive it
    out.write_text(json.dumps({"cpu": cpu, "policy": policy, "stalls": stalls,
                               "from": start, "to": time.perf_counter_ns()}))  # fmt: skip


def real_time_priority() -> str:
    """Take the highest SCHED_FIFO priority allowed (root: 99; an audio group: its rtprio
    limit); say which, or that none was."""
    top = os.sched_get_priority_max(os.SCHED_FIFO)
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    for priority in dict.fromkeys((top, min(top, soft))):
        if priority < 1:
            continue
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        except OSError:  # EPERM, or a priority this kernel refuses
            continue
        return f"FIFO {priority}"
    return "normal priority (no real-time priority allowed)"


def open_schedstat() -> int | None:
    """This thread's schedstat, kept open: a pread costs ~1.5 µs, opening it anew ~30."""
    try:
        return os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return None  # no CONFIG_SCHED_INFO, or a /proc that hides it


def run_delay_ns(fd: int | None) -> int | None:
    """How long this thread has been runnable but not running, in all (None: unknown)."""
    if fd is None:
        return None
    try:
        return int(os.pread(fd, 128, 0).split()[1])
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Watch:
    """What the monitor saw: stalls on every CPU, and the priority it got."""

    stalls: list[Stall]
    policy: str
    seconds: float
    cpus: int = 0  # watched to the end
    wanted: int = 0
    steal_ms: float | None = None  # the kernel's own count of time the host took, all CPUs

    def during(self, start_ns: int, end_ns: int, over_ns: int = TICK_NS) -> list[Stall]:
        """Stalls longer than `over_ns` that overlap [start_ns, end_ns]. A stall began after
        the tick before it (that one woke in time) and ended when its wake-up came."""
        return [
            s for s in self.stalls
            if s.late_ns > over_ns and s.due_ns - TICK_NS <= end_ns and s.end_ns >= start_ns
        ]  # fmt: skip

    @property
    def real_time(self) -> bool:
        """Whether every watcher ran at a real-time priority (else its wake-ups say little)."""
        return self.policy.startswith("FIFO") and "," not in self.policy

    def summary(self) -> str:
        def count(ms: float) -> int:
            return sum(s.late_ns > ms * 1e6 for s in self.stalls)

        worst = max((s.late_ns for s in self.stalls), default=0) / 1e6
        per_minute = 60 / self.seconds if self.seconds else 0.0
        long = [s for s in self.stalls if s.late_ns > TICK_NS]
        if any(s.queued_ns is None for s in long):
            waits = "waiting unknown: no schedstat"
        else:
            waits = f"{sum(s.never_waited for s in long)} never waiting to run: the timer late"
        steal = "" if self.steal_ms is None else f"; steal by /proc/stat {self.steal_ms:.0f} ms"
        return (
            f"a CPU taken > 1 ms: {count(1)} times ({count(1) * per_minute:.0f} a minute;"
            f" {waits}), > 2 ms: {count(2)}, longest {worst:.2f} ms;"
            f" {self.seconds:.0f} s watched on {self.cpus} of {self.wanted} CPUs at {self.policy}"
            f"{steal}"
        )


def steal_ticks() -> int | None:
    """The time the hypervisor ran something else while a vCPU of ours wanted to run, summed
    over the CPUs, in clock ticks (/proc/stat's 8th field; None where there is none). Only a
    guest whose host reports it counts it, in ticks of 10 ms: a floor, not the whole."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8])
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def watching(seconds_at_most: float) -> Iterator[Watch]:
    """Watch every CPU this process may use until the block ends; the Watch fills in then."""
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as name:
        outs = [Path(name) / f"cpu{cpu}.json" for cpu in cpus]
        command = [sys.executable, __file__, "--seconds", str(seconds_at_most)]
        children = [
            subprocess.Popen([*command, "--cpu", str(cpu), "--out", str(out)])
            for cpu, out in zip(cpus, outs, strict=True)
        ]
        watch = Watch([], "", 0.0)
        time.sleep(0.2)  # the children are up and sleeping
        stolen = steal_ticks()
        try:
            yield watch
        finally:
            if stolen is not None and (now := steal_ticks()) is not None:
                watch.steal_ms = (now - stolen) * 1000 / os.sysconf("SC_CLK_TCK")
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=10)
        results = [json.loads(out.read_text()) for out in outs if out.exists()]
    watch.stalls = sorted(
        (Stall(r["cpu"], *stall) for r in results for stall in r["stalls"]),
        key=lambda s: s.due_ns,
    )
    watch.policy = ", ".join(sorted({r["policy"] for r in results}))
    watch.cpus, watch.wanted = len(results), len(cpus)
    watch.seconds = min(((r["to"] - r["from"]) / 1e9 for r in results), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)  # the child
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu is not None:
        watch_cpu(args.cpu, args.seconds, args.out)
        return 0
    with watching(args.seconds + 5) as watch:
        time.sleep(args.seconds)
    print(f"idle machine, {args.seconds:g} s: {watch.summary()}")
    for stall in watch.stalls:
        if stall.late_ns > TICK_NS:
            waited = "?" if stall.queued_ns is None else f"{stall.queued_ns / 1e6:.3f}"
            print(f"   cpu{stall.cpu}: {stall.late_ns / 1e6:.2f} ms late,"
                  f" {waited} ms of it waiting to run")  # fmt: skip
    print(f"made by: python bench/stalls.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
