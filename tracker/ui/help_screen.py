"""`?`: every key of every view, read from the widgets' own BINDINGS so it is never out of date."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) for each binding with a description; keys that share an action and a
    description are listed together (`+ / =`)."""
    rows: dict[tuple[str, str], list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.description:
            continue
        label = binding.key_display or _key_label(binding.key)
        rows.setdefault((binding.action, binding.description), []).append(label)
    return [
        (" / ".join(dict.fromkeys(keys)), description) for (_, description), keys in rows.items()
    ]


def _key_label(key: str) -> str:
    from textual.keys import format_key

    *modifiers, name = key.split("+")
    return "+".join([*modifiers, format_key(name)])


class HelpScreen(ModalScreen[None]):
    """A scrollable table of keys, one section a view. Escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", show=True),
    ]

    def __init__(self, sections: Sequence[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("tracker — keys", style="bold"))
            for title, bindings in self.sections:
                table = Table(title=title, title_justify="left", expand=True, show_header=False)
                table.add_column("keys", style="bold cyan", ratio=1)
                table.add_column("does", ratio=3)
                for keys, description in binding_rows(bindings):
                    table.add_row(keys, description)
                yield Static(table)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
