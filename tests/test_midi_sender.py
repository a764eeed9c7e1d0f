"""The sender process's side of a port that comes back (the parent watches the ports).

Through real JACK ports: tests/test_midi_play_jack.py::test_a_port_that_dies_and_returns.
Here the one path JACK will not produce on demand: the port is listed again but cannot be
opened, and the parent must be told to look again.
"""

from __future__ import annotations

from typing import Any

from tracker.live.midi_sender import apply


class Ports:
    """The part of MidiPorts that `lost` and `back` reach."""

    def __init__(self, opens: bool) -> None:
        self.opens = opens
        self.calls: list[tuple[str, str]] = []

    def lost(self, name: str) -> None:
        self.calls.append(("lost", name))

    def back(self, name: str) -> bool:
        self.calls.append(("back", name))
        return self.opens


def run(ports: Ports, item: list[Any]) -> list[dict[str, object]]:
    said: list[dict[str, object]] = []
    apply(ports, item, said.append)  # type: ignore[arg-type]  (a stand-in for MidiPorts)
    return said


def test_a_lost_port_is_handed_to_the_sender_without_a_word() -> None:
    ports = Ports(opens=True)
    assert run(ports, ["lost", "synth:in"]) == []
    assert ports.calls == [("lost", "synth:in")]


def test_a_port_that_is_back_and_opens_is_announced() -> None:
    ports = Ports(opens=True)
    assert run(ports, ["back", "synth:in"]) == [{"warning": "MIDI port 'synth:in' is back"}]
    assert ports.calls == [("back", "synth:in")]


def test_a_port_that_is_back_but_will_not_open_is_reported_lost_again() -> None:
    ports = Ports(opens=False)
    assert run(ports, ["back", "synth:in"]) == [{"lost": "synth:in"}]
    assert ports.calls == [("back", "synth:in")]
