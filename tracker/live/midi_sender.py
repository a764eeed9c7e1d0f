"""The MIDI sender's own process: it opens the ports and sends each message when it is due.

Why a process: in the engine's process the sender thread shares the interpreter lock with the
engine thread, so a wake-up can wait for the engine, and at normal priority any busy thread
on the machine can delay it (bench/load.py and bench/senders.py measure both). Here it runs
alone, at real-time priority where the system allows it.

The protocol is JSON, one object a line (data only, nothing run from it): the parent writes
the setup, then batches `{"m": [...]}` of `["e", due_ns, port, bytes]` (a routed message),
`["rt", due_ns, bytes]` (a clock message to every clock port), `["off", due_ns]` (all notes
off), `["panic"]`, `["late"]` (keep lateness, for a bench), `["lost", port]` and
`["back", port]` (the parent watches the ports), and finally `{"close": true}`. It answers
`{"ready": {"ports": [...]}}` or `{"error": "..."}`, then `{"warning": "..."}` as ports fail
or come back, `{"lost": port}` when one that came back could not be opened, and
`{"closed": {"sent": n, "late": [...]}}`. When the pipe closes without
a close (the parent was killed), it ends every note it sent and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tracker.live.midi_out import (
    SENDER_PRIORITY,
    MidiPorts,
    MidiSetup,
    Route,
    take_real_time_priority,
)
from tracker.midi.ports import MidiUnavailable

STOP_SECONDS = 5.0
SWITCH_INTERVAL = 0.0005
READER_PRIORITY = SENDER_PRIORITY - 1


def json_line(message: dict[str, object]) -> str:
    """One message of the protocol, as the line that carries it."""
    return json.dumps(message, separators=(",", ":")) + "\n"


class SenderProcess:
    """The parent's handle: write messages, read replies, stop."""

    def __init__(self, process: subprocess.Popen[str], ready: dict[str, Any]) -> None:
        self.process = process
        self.ready = ready

    def send(self, message: dict[str, object]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json_line(message))
        self.process.stdin.flush()

    def replies(self) -> Iterator[dict[str, Any]]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            yield json.loads(line)

    def stop(self) -> None:
        """Close the pipe (the sender ends its notes and exits) and wait for it."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(setup: MidiSetup) -> SenderProcess:
    """Start a sender for `setup` and wait until its ports are open.

    Raises:
        MidiUnavailable: as opening the ports in this process would, in the same words.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker.live.midi_sender"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=env,
    )
    handle = SenderProcess(process, {})
    try:
        handle.send({"setup": setup_to_json(setup)})
        assert process.stdout is not None
        first = process.stdout.readline()
        reply = json.loads(first) if first else {"error": "the MIDI sender did not start"}
    except BaseException:  # a broken pipe, a garbled line, ctrl-c: no sender left behind
        handle.stop()
        raise
    if "ready" not in reply:
        handle.stop()
        raise MidiUnavailable(str(reply.get("error", "the MIDI sender did not start")))
    handle.ready = reply["ready"]
    return handle


def setup_to_json(setup: MidiSetup) -> dict[str, object]:
    return {
        "api": setup.api,
        "routes": {str(t): [r.port, r.channel] for t, r in setup.routes.items()},
        "clock_out": dict(setup.clock_out),
        "virtual": sorted(setup.virtual),
    }


def setup_from_json(data: dict[str, Any]) -> MidiSetup:
    return MidiSetup(
        api=str(data["api"]),
        routes={int(t): Route(str(p), int(c)) for t, (p, c) in data["routes"].items()},
        clock_out={str(n): float(o) for n, o in data["clock_out"].items()},
        virtual=frozenset(str(n) for n in data["virtual"]),
    )


class _Replies:
    """Lines to the parent, from the main thread and the sender thread's warnings alike."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, object]) -> None:
        with self._lock:
            try:
                self._out.write(json_line(message))
                self._out.flush()
            except (OSError, ValueError):  # the parent is gone
                pass


def serve(lines: IO[str], reply: _Replies) -> None:
    """Open the ports the first line asks for, then send what the parent hands over."""
    first = lines.readline()
    if not first:
        return
    try:
        setup = setup_from_json(json.loads(first)["setup"])
        ports = MidiPorts(setup, lambda text: reply({"warning": text}), real_time=True)
    except MidiUnavailable as exc:
        reply({"error": str(exc)})
        return
    reply({"ready": {"ports": ports.port_names()}})
    try:
        for line in lines:
            message = json.loads(line)
            if message.get("close"):
                break
            for item in message.get("m", ()):
                try:
                    apply(ports, item, reply)
                except Exception as exc:  # one bad item must not end every note's sending
                    reply({"warning": f"the MIDI sender skipped {item!r}: {exc}"})
    finally:
        ports.close()  # also when the parent died: end every note it had us send
    reply({"closed": {"sent": ports.sent, "late": ports.late_ns or []}})


def apply(ports: MidiPorts, item: list[Any], reply: Callable[[dict[str, object]], None]) -> None:
    kind = item[0]
    if kind == "e":
        ports.enqueue(int(item[1]), str(item[2]), [int(b) for b in item[3]])
    elif kind == "rt":
        ports.realtime(int(item[1]), [int(b) for b in item[2]])
    elif kind == "off":
        ports.notes_off(int(item[1]))
    elif kind == "panic":
        ports.panic()
    elif kind == "late":
        ports.late_ns = []
    elif kind == "lost":
        ports.lost(str(item[1]))
    elif kind == "back":
        name = str(item[1])
        # Opening a port asks the server: only when one comes back, on this thread.
        reply({"warning": f"MIDI port {name!r} is back"} if ports.back(name) else {"lost": name})


def main() -> None:
    # ctrl-c in a terminal reaches the whole process group: the parent decides when we stop,
    # and we must live to end the notes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The reader hands the interpreter lock to the sender thread within half a millisecond
    # (the default is 5 ms)...
    sys.setswitchinterval(SWITCH_INTERVAL)
    # ...and runs just below it, at real-time priority where allowed: at normal priority it
    # could be put off for milliseconds by any busy process while it holds that lock, and the
    # sender would wait with it (bench/load.py saw rows spread over up to 6 ms that way).
    take_real_time_priority(READER_PRIORITY)
    serve(sys.stdin, _Replies(sys.stdout))


if __name__ == "__main__":
    main()
