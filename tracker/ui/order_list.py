"""The order list: the arrangement, one pattern id per position."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tracker.model import edits
from tracker.model.song import Song
from tracker.session.document import Document
from tracker.ui.edit_state import EditState


class OrderList(DataTable):
    """Keyboard: up/down choose a position (the grid shows its pattern); +/- change the pattern
    played there; insert repeats the position; delete removes it."""

    BINDINGS = [
        Binding("enter", "open", "Edit pattern", show=True),
        Binding("plus,equals_sign", "step_pattern(1)", "Next pattern here", show=True),
        Binding("minus", "step_pattern(-1)", "Previous pattern here", show=True),
        Binding("insert,i", "insert", "Insert position", show=True),
        Binding("delete", "delete", "Delete position", show=True),
    ]

    class PositionChosen(Message):
        """The cursor moved to another order position (state.order_index and state.pattern set)."""

    class OpenRequested(Message):
        """Enter: edit the chosen position's pattern in the grid."""

    class Edited(Message):
        def __init__(self, changed: frozenset[int] | None) -> None:
            super().__init__()
            self.changed = changed

    def __init__(self, document: Document, state: EditState, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.document = document
        self.state = state
        self.playing_index: int | None = None
        self._shown: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.add_columns("Pos", "Pattern")
        self.refresh_song()

    def refresh_song(self) -> None:
        song = self.document.song
        rows = []
        for index, pid in enumerate(song.order):
            name = song.patterns[pid].name if pid in song.patterns else "?"
            marker = "▶" if index == self.playing_index else " "
            rows.append((f"{marker}{index:02X}", f"{pid:02X} {name}".rstrip()))
        if rows != self._shown:  # rebuilding costs milliseconds; most edits change no row here
            self._shown = rows
            self.clear()
            self.add_rows(rows)
        if song.order:
            self.state.order_index = min(self.state.order_index, len(song.order) - 1)
            if self.cursor_row != self.state.order_index:
                self.move_cursor(row=self.state.order_index, animate=False)

    def set_playing(self, index: int | None) -> None:
        if index != self.playing_index:
            self.playing_index = index
            self.refresh_song()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        order = self.document.song.order
        if 0 <= event.cursor_row < len(order) and event.cursor_row != self.state.order_index:
            self.state.order_index = event.cursor_row
            self.state.pattern = order[event.cursor_row]
            self.post_message(self.PositionChosen())

    def _edit(self, label: str, change: Callable[[Song], None]) -> None:
        with self.document.history.edit(label, song_wide=True) as song:
            change(song)
        order = self.document.song.order
        self.state.order_index = max(min(self.state.order_index, len(order) - 1), 0)
        if order:
            self.state.pattern = order[self.state.order_index]
        self.refresh_song()
        self.post_message(self.Edited(None))
        self.post_message(self.PositionChosen())

    def action_open(self) -> None:
        self.post_message(self.OpenRequested())

    def action_step_pattern(self, delta: int) -> None:
        song = self.document.song
        if not song.order or not song.patterns:
            self.app.bell()
            return
        ids = sorted(song.patterns)
        current = song.order[self.state.order_index]
        position = ids.index(current) if current in ids else 0
        new = ids[(position + delta) % len(ids)]
        index = self.state.order_index
        self._edit("order", lambda s: edits.order_set(s, index, new))

    def action_insert(self) -> None:
        order = self.document.song.order
        if not order:  # an empty arrangement: start it with the pattern being edited
            pid = self.state.pattern
            if pid in self.document.song.patterns:
                self._edit("insert position", lambda s: edits.order_insert(s, 0, pid))
            return
        index = self.state.order_index
        pid = order[index]
        self._edit("insert position", lambda s: edits.order_insert(s, index + 1, pid))
        self.state.order_index = index + 1
        self.move_cursor(row=index + 1, animate=False)

    def action_delete(self) -> None:
        if len(self.document.song.order) <= 1:
            self.app.bell()  # the song keeps one position: there would be nothing to play
            return
        index = self.state.order_index
        self._edit("delete position", lambda s: edits.order_delete(s, index))
