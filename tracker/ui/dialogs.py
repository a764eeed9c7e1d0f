"""Small modal questions: yes/no/cancel choices and a file path."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; height: auto; border: thick $accent; background: $surface; padding: 1 2;
}}
{name} Label {{ width: 100%; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 2; }}
{name} .error {{ color: $error; }}
"""


class ChoiceScreen(ModalScreen[str]):
    """A question with buttons; dismisses with the chosen button's id. Each choice also has a key:
    its first letter. Escape picks the last choice (the cancel-like one)."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ChoiceScreen")
    BINDINGS = [Binding("escape", "choose_last", "Cancel")]

    def __init__(self, question: str, choices: Sequence[tuple[str, str]]) -> None:
        """Args: choices: (id, label) pairs, e.g. [("save", "Save"), ("discard", "Discard")]."""
        super().__init__()
        self.question = question
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                for choice_id, label in self.choices:
                    yield Button(label, id=choice_id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "")

    def on_key(self, event: events.Key) -> None:
        for choice_id, label in self.choices:
            if event.key == label[0].lower():
                event.stop()
                self.dismiss(choice_id)
                return

    def action_choose_last(self) -> None:
        self.dismiss(self.choices[-1][0])


class PathScreen(ModalScreen[str | None]):
    """Asks for a file path; dismisses with the text, or None on escape."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="PathScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(value=self.value, id="path")
            yield Label("", classes="error", id="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.query_one("#error", Label).update("type a file name, or escape to cancel")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
