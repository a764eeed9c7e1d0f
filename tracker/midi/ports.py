"""MIDI ports through python-rtmidi: which API, which ports exist, and opening one by name.

rtmidi is imported only when a port is first wanted, so songs render on machines without it.
We talk to rtmidi directly rather than through mido's rtmidi backend: with JACK, mido 1.3.3's
`open_output(name)` made a port named like the destination and never connected it (seen with
python-rtmidi 1.5.8). mido still builds and parses every message (midi/messages.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tracker.model.errors import TrackerError

APIS = ("alsa", "jack")
CLIENT_NAME = "tracker"
ALSA_SEQUENCER = Path("/dev/snd/seq")


class MidiUnavailable(TrackerError):
    """No MIDI: rtmidi is missing, the API cannot start (no JACK server), or a port is unknown."""


def rtmidi_module() -> ModuleType:
    try:
        import rtmidi
    except ImportError as exc:  # the wheel is a dependency; a broken install still gets one line
        raise MidiUnavailable(f"python-rtmidi cannot be imported: {exc}") from None
    return rtmidi


def resolve_api(api: str | None) -> str:
    """The API to use: the one asked for, else $TRACKER_MIDI_API, else ALSA where the ALSA
    sequencer exists and JACK where it does not (a server, a container)."""
    chosen = api or os.environ.get("TRACKER_MIDI_API") or ""
    if not chosen:
        return "alsa" if ALSA_SEQUENCER.exists() else "jack"
    if chosen not in APIS:
        raise MidiUnavailable(f"MIDI API {chosen!r} is not one of {', '.join(APIS)}")
    return chosen


def _api_constant(rtmidi: ModuleType, api: str) -> int:
    return rtmidi.API_LINUX_ALSA if api == "alsa" else rtmidi.API_UNIX_JACK


def _client(api: str, output: bool, name: str = CLIENT_NAME) -> Any:
    """A new rtmidi client (one per port: rtmidi gives each client a single port)."""
    rtmidi = rtmidi_module()
    kind = rtmidi.MidiOut if output else rtmidi.MidiIn
    try:
        return kind(_api_constant(rtmidi, api), name=name)
    except (rtmidi.SystemError, rtmidi.NoDevicesError, RuntimeError) as exc:
        hint = " (is a JACK server running?)" if api == "jack" else ""
        raise MidiUnavailable(f"MIDI ({api}) cannot start{hint}: {exc}") from None


def _own(name: str) -> bool:
    """Ports of our own clients (tracker, tracker-01, …) are not destinations for us."""
    client = name.split(":", 1)[0]
    return client == CLIENT_NAME or client.startswith(f"{CLIENT_NAME}-")


class PortLister:
    """Lists ports with one long-lived client: cheap enough to poll for ports that come and go."""

    def __init__(self, api: str) -> None:
        self.api = api
        # Each client is one more JACK client woken every period: open the second only if asked.
        self._outputs = _client(api, True, f"{CLIENT_NAME}-watch")
        self._inputs: Any = None

    def outputs(self) -> list[str]:
        """Ports we can send to (other programs' inputs)."""
        return [n for n in self._outputs.get_ports() if not _own(n)]

    def inputs(self) -> list[str]:
        """Ports we can receive from (other programs' outputs)."""
        if self._inputs is None:
            self._inputs = _client(self.api, False, f"{CLIENT_NAME}-watch")
        return [n for n in self._inputs.get_ports() if not _own(n)]

    def close(self) -> None:
        self._outputs.delete()
        if self._inputs is not None:
            self._inputs.delete()


def match_port(wanted: str, names: Sequence[str], what: str = "MIDI output") -> str:
    """The port called `wanted`, else the one port whose name contains it (any case).

    Raises:
        MidiUnavailable: no port or several match; the message lists the ports.
    """
    if wanted in names:
        return wanted
    found = [n for n in names if wanted.lower() in n.lower()]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(repr(n) for n in (found or names)) or "none"
    if found:
        raise MidiUnavailable(f"{what} port {wanted!r} matches several ports: {listed}")
    raise MidiUnavailable(f"{what} port {wanted!r} matches no port (ports: {listed})")


@dataclass(slots=True)
class OutputPort:
    """An open output: `send` takes raw bytes (a mido message's `.bytes()`)."""

    name: str  # the destination's name, or our own name for a virtual port
    client: Any

    def send(self, data: Sequence[int]) -> None:
        self.client.send_message(data)

    def close(self) -> None:
        self.client.close_port()
        self.client.delete()


def open_output(api: str, destination: str, label: str = "out") -> OutputPort:
    """Connect a new port of ours (`label`) to the existing port `destination` (exact name)."""
    client = _client(api, True)
    ports = client.get_ports()
    if destination not in ports:
        client.delete()
        raise MidiUnavailable(f"MIDI output port {destination!r} is gone")
    client.open_port(ports.index(destination), label)
    return OutputPort(destination, client)


def open_virtual_output(api: str, name: str) -> OutputPort:
    """A port of ours that other programs connect to (`tracker:NAME`)."""
    client = _client(api, True)
    client.open_virtual_port(name)
    return OutputPort(name, client)


Receive = Callable[[list[int], int], None]  # raw bytes, time.perf_counter_ns() on arrival


@dataclass(slots=True)
class InputPort:
    name: str
    client: Any

    def close(self) -> None:
        self.client.cancel_callback()
        self.client.close_port()
        self.client.delete()


def open_input(api: str, source: str | None, receive: Receive, label: str = "in") -> InputPort:
    """Listen on `source` (exact name), or on a virtual port of ours when `source` is None.

    `receive` runs on rtmidi's thread; clock, sysex and active sensing are let through (the
    clock follower needs them).
    """
    import time

    client = _client(api, False)
    client.ignore_types(sysex=False, timing=False, active_sense=True)

    def callback(event: tuple[list[int], float], _data: object = None) -> None:
        receive(event[0], time.perf_counter_ns())

    if source is None:
        client.open_virtual_port(label)
        name = label
    else:
        ports = client.get_ports()
        if source not in ports:
            client.delete()
            raise MidiUnavailable(f"MIDI input port {source!r} is gone")
        client.open_port(ports.index(source), label)
        name = source
    client.set_callback(callback)
    return InputPort(name, client)
