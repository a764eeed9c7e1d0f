"""Where the musician is editing: shared by the pattern grid, the piano roll and the app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class EditState:
    """The cursor's context. Views read and write it; the app owns the one instance."""

    order_index: int = 0  # position in the order list being edited
    pattern: int = 0  # pattern id shown (normally song.order[order_index])
    track: int = 0
    row: int = 0
    octave: int = 4  # the QWERTY piano's lower row starts at C of this octave (C-4 = 60)
    step: int = 1  # rows the cursor moves after entering a value (0: stays)
    instrument: int | None = None  # written with new notes; None leaves the column empty
    velocity: int | None = None  # written with new notes; None leaves the default (100)
    follow: bool = True  # the views follow the playhead while playing
