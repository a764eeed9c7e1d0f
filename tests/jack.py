"""Real parts for tests: a JACK server with the dummy driver, FluidSynth as the hardware synth,
and `jack_midi_dump` as an independent MIDI receiver.

Servers are named from a small pool, and no client is ever named like one (a client with the
server's name removes the server's socket).

Why a pool and not a fresh name each time: jackd keeps its servers in a registry of eight
slots in /dev/shm, and frees a dead server's slot only when a server of the same name starts
again. A server that dies without unregistering (SIGKILL, a killed test run, a test that kills
JACK on purpose) keeps its slot; after eight such deaths under unique names every jackd on the
machine fails with "Too many servers already active". Pool names reclaim their own slots.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, require_program

RATE = 48000
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def jack_ports(env: dict[str, str], *flags: str) -> list[str]:
    listed = subprocess.run(
        ["jack_lsp", *flags], env=env, capture_output=True, text=True, timeout=5
    )
    return listed.stdout.splitlines() if listed.returncode == 0 else []


def jack_connect(env: dict[str, str], source: str, destination: str) -> None:
    subprocess.run(["jack_connect", source, destination], env=env, check=True, timeout=5)


def jack_disconnect(env: dict[str, str], source: str, destination: str) -> None:
    subprocess.run(["jack_disconnect", source, destination], env=env, check=False, timeout=5)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SERVER_POOL = [f"trk-test-{slot}" for slot in range(6)]


def server_env(name: str) -> dict[str, str]:
    """The environment in which JACK clients (and our program) reach the server `name`; no
    client started in it starts a server of its own."""
    return dict(
        os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1", PYTHONPATH=str(REPO)
    )


def free_server_name() -> str:
    """A pool name no running server answers to (another test run may hold some)."""
    for name in SERVER_POOL:
        if not jack_ports(server_env(name)):
            return name
    pytest.fail(f"every JACK test server name is in use: {', '.join(SERVER_POOL)}")


def start_jackd(env: dict[str, str], log_path: Path, period: int = 32) -> subprocess.Popen:
    """Start the dummy-driver server `env` names, logging to `log_path` (appended); return it
    once its ports are there."""
    jackd = require_program("jackd")
    name = env["JACK_DEFAULT_SERVER"]
    with log_path.open("a") as log:
        server = subprocess.Popen(
            [jackd, "-n", name, "-d", "dummy", "-r", str(RATE), "-p", str(period)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if not wait_for(lambda: "system:playback_1" in jack_ports(env), 10):
        _stop(server)
        pytest.fail(f"jackd did not start: {log_path.read_text()}")
    return server


@contextmanager
def jack_server(log_dir: Path, period: int = 32) -> Iterator[dict[str, str]]:
    """A dummy-driver JACK server; yields the environment that reaches it (and imports us)."""
    require_program("jack_lsp")
    require_program("jack_connect")
    env = server_env(free_server_name())
    server = start_jackd(env, log_dir / f"jackd-{env['JACK_DEFAULT_SERVER']}.log", period)
    try:
        yield env
    finally:
        _stop(server)


NOTE_LINE = re.compile(r"^\s*(\d+):((?: [0-9a-f]{2})+)")


@dataclass(frozen=True, slots=True)
class Received:
    frame: int  # jack_midi_dump's absolute timestamp: frames since it started
    data: bytes

    @property
    def status(self) -> int:
        return self.data[0] & 0xF0 if self.data[0] < 0xF0 else self.data[0]

    @property
    def channel(self) -> int:
        return (self.data[0] & 0x0F) + 1

    @property
    def is_note_on(self) -> bool:
        return self.status == 0x90 and self.data[2] > 0

    @property
    def is_note_off(self) -> bool:
        return self.status == 0x80 or (self.status == 0x90 and self.data[2] == 0)


class MidiDump:
    """`jack_midi_dump -a NAME`: records what reaches its port `NAME:input`, with frame times."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "dump") -> None:
        program = require_program("jack_midi_dump")
        self.name = name
        self.port = f"{name}:input"
        self.path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.txt"
        self._file = self.path.open("w")
        self.process = subprocess.Popen(
            ["stdbuf", "-oL", program, "-a", name],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
        )
        if not wait_for(lambda: self.port in jack_ports(env), 10):
            self.close()
            pytest.fail(f"jack_midi_dump did not start: {self.path.read_text()}")

    def messages(self) -> list[Received]:
        found = []
        for line in self.path.read_text().splitlines():
            match = NOTE_LINE.match(line)
            if match:
                data = bytes(int(b, 16) for b in match.group(2).split())
                found.append(Received(int(match.group(1)), data))
        return found

    def kill(self) -> None:
        """Take the port away as a crash or an unplugged cable would."""
        self.process.kill()
        self.process.wait()
        self._file.close()

    def close(self) -> None:
        _stop(self.process)
        self._file.close()


def unmatched_notes(messages: list[Received]) -> list[tuple[int, int]]:
    """(channel, pitch) of every note-on that no later note-off ends: a hanging note."""
    held: dict[tuple[int, int], int] = {}
    for message in messages:
        key = (message.channel, message.data[1]) if len(message.data) > 1 else None
        if message.is_note_on and key:
            held[key] = held.get(key, 0) + 1
        elif message.is_note_off and key and held.get(key):
            held[key] -= 1
    return [key for key, count in held.items() for _ in range(count)]


def rtmidi_outputs(env: dict[str, str]) -> list[str]:
    """The ports python-rtmidi can send to on the server `env` names (a client of its own)."""
    script = (
        "import rtmidi; o = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name='lister'); "
        "print('\\n'.join(o.get_ports()))"
    )
    listed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=10
    )
    return listed.stdout.splitlines()


def free_port() -> int:
    """A TCP port nobody listens on: FluidSynth's -s shell exits when its port is taken (by
    another FluidSynth), and with -i it then has nothing to do and quits."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FluidSynth:
    """FluidSynth as a hardware synth: MIDI in on `fluidsynth-midi:midi_00`, audio out on
    `fluidsynth-midi:left/right`, nothing connected until the test says so."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        program = require_program("fluidsynth")
        if not SOUNDFONT.exists():
            if os.environ.get("TRACKER_REQUIRE_JACK") == "1":
                pytest.fail(f"{SOUNDFONT} is required (package fluid-soundfont-gm)")
            pytest.skip(f"{SOUNDFONT} is not installed")
        self.log = log_dir / f"fluidsynth-{uuid.uuid4().hex[:6]}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [program, "-a", "jack", "-m", "jack", "-i", "-s", "-o", f"shell.port={free_port()}",
                 "-o", "audio.jack.autoconnect=0", "-o", "midi.autoconnect=0",
                 "-r", str(RATE), str(SOUNDFONT)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        found = wait_for(lambda: self.midi_port(env) is not None, 20)
        if not found:
            self.close()
            pytest.fail(f"fluidsynth did not start: {self.log.read_text()}")
        self.midi_in = self.midi_port(env) or ""
        # jack_lsp shows the port as soon as it is registered; MIDI clients see it once
        # FluidSynth's MIDI client is active
        if not wait_for(lambda: self.midi_in in rtmidi_outputs(env), 20):
            self.close()
            pytest.fail(f"fluidsynth's MIDI input never became usable: {self.log.read_text()}")
        ports = jack_ports(env)
        self.audio_out = [
            p for p in ports if p.startswith("fluidsynth") and p.endswith((":left", ":right"))
        ]

    @staticmethod
    def midi_port(env: dict[str, str]) -> str | None:
        for port in jack_ports(env):
            if port.startswith("fluidsynth") and port.split(":", 1)[1].startswith("midi"):
                return port
        return None

    def close(self) -> None:
        _stop(self.process)


class PrivateFluidSynth(FluidSynth):
    """FluidSynth as above, with its command server on a free TCP port instead of 9800.

    `-s` keeps a non-interactive FluidSynth running; when another FluidSynth on the machine
    (another test run, another checkout) holds 9800, the server fails, FluidSynth exits at
    once, and its ports vanish between being found and being connected. This one also waits
    for its audio ports, not only the MIDI one.
    """

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        program = require_program("fluidsynth")
        if not SOUNDFONT.exists():
            if os.environ.get("TRACKER_REQUIRE_JACK") == "1":
                pytest.fail(f"{SOUNDFONT} is required (package fluid-soundfont-gm)")
            pytest.skip(f"{SOUNDFONT} is not installed")
        self.log = log_dir / f"fluidsynth-{uuid.uuid4().hex[:6]}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [program, "-a", "jack", "-m", "jack", "-i", "-s",
                 "-o", f"shell.port={free_port()}",
                 "-o", "audio.jack.autoconnect=0", "-o", "midi.autoconnect=0",
                 "-r", str(RATE), str(SOUNDFONT)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

        def audio_ports() -> list[str]:
            return [
                p
                for p in jack_ports(env)
                if p.startswith("fluidsynth") and p.endswith((":left", ":right"))
            ]

        if not wait_for(lambda: self.midi_port(env) and len(audio_ports()) == 2, 20):
            self.close()
            pytest.fail(f"fluidsynth did not start: {self.log.read_text()}")
        self.midi_in = self.midi_port(env) or ""
        # jack_lsp shows the port as soon as it is registered; MIDI clients see it once
        # FluidSynth's MIDI client is active
        if not wait_for(lambda: self.midi_in in rtmidi_outputs(env), 20):
            self.close()
            pytest.fail(f"fluidsynth's MIDI input never became usable: {self.log.read_text()}")
        self.audio_out = sorted(audio_ports())  # left, right
