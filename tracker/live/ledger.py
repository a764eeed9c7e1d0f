"""Which notes the engine has started and not yet ended, and the note-offs it must not pass on.

When the engine switches from one event stream to another (an edit, a restart), the new stream
may end notes the engine never started (they began before the switch in the new song only). A
stray note-off would release a later note of the same pitch, so those are counted here and
dropped; notes the engine holds that the new song does not get their note-off at the switch.
"""

from __future__ import annotations

from collections import Counter

from tracker.live.stream import NoteKey
from tracker.model.events import Event, NoteOff, NoteOn


class NoteLedger:
    def __init__(self) -> None:
        self.sounding: Counter[NoteKey] = Counter()
        self.orphans: Counter[NoteKey] = Counter()  # note-offs to drop: their note never started

    def admit(self, event: Event) -> bool:
        """Record `event`; False if it is a note-off that must not reach the instruments."""
        if isinstance(event, NoteOn):
            self.sounding[(event.track, event.pitch)] += 1
        elif isinstance(event, NoteOff):
            key = (event.track, event.pitch)
            if self.orphans[key] > 0:
                self.orphans[key] -= 1
                return False
            if self.sounding[key] <= 0:
                return False
            self.sounding[key] -= 1
        return True

    def reconcile(self, tick: int, wanted: Counter[NoteKey]) -> list[NoteOff]:
        """Switch to a stream that has `wanted` notes sounding: note-offs for the notes held
        beyond those, and orphans for the wanted notes the engine never started."""
        offs = []
        for (track, pitch), held in self.sounding.items():
            for _ in range(held - wanted.get((track, pitch), 0)):
                offs.append(NoteOff(tick, track, pitch))
        self.orphans = Counter()
        for key, count in wanted.items():
            held = self.sounding.get(key, 0)
            if count > held:
                self.orphans[key] = count - held
            self.sounding[key] = min(count, held)
        self.sounding = +Counter({k: v for k, v in self.sounding.items() if k in wanted})
        return offs

    def release_all(self, tick: int) -> list[NoteOff]:
        """Note-offs for every held note; the ledger is empty after."""
        offs = [
            NoteOff(tick, track, pitch)
            for (track, pitch), held in self.sounding.items()
            for _ in range(held)
        ]
        self.sounding = Counter()
        self.orphans = Counter()
        return offs
