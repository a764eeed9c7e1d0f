"""Saving, opening, recovering and quitting: the app's file actions, and the questions they ask.

The rules (docs/DESIGN.md, "No lost work"): nothing is written over an existing file without
asking, never over the song or the MIDI file it came from; unsaved edits are never dropped
without the musician choosing so; a recovery file is only ever set aside (renamed), and only
deleted by a successful save.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.model.errors import TrackerError
from tracker.session.document import Document, load_recovery, pending_recovery
from tracker.ui.dialogs import ChoiceScreen, PathScreen

if TYPE_CHECKING:
    from tracker.ui.app import TrackerApp


def suggested_path(document: Document, suffix: str) -> Path:
    """Where a save, render or export of this document goes unless the musician says otherwise:
    beside its song, or beside the MIDI file it was imported from."""
    source = document.path or document.imported_from
    return source.with_suffix(suffix) if source is not None else Path(f"untitled{suffix}")


def protected_paths(document: Document) -> set[Path]:
    """Files an export or a render must never replace: the song and its MIDI source."""
    return {p.resolve() for p in (document.path, document.imported_from) if p is not None}


class FileActions:
    """Mixed into TrackerApp: every action that reads or writes a song file."""

    def ask_path(
        self: TrackerApp,
        question: str,
        suggestion: Path,
        then: Callable[[Path], object],
        *,
        writes: bool = True,
        protect: bool = False,
    ) -> None:
        """Ask for a path. For a file to be written, ask before replacing an existing file
        (other than the song's own, when saving it); with `protect` (renders, exports) refuse
        the song and its MIDI source outright. `then` gets the path."""

        def answered(answer: str | None) -> None:
            if answer is None:
                return
            path = Path(answer).expanduser()
            if not writes:
                then(path)
                return
            if protect and path.resolve() in protected_paths(self.document):
                self.notify(
                    f"{path}: that is the song's own file; choose another name",
                    severity="error",
                )
                return
            own = self.document.path is not None and path.resolve() == self.document.path.resolve()
            if path.exists() and not own:
                self.confirm(
                    f"{path} exists. Replace it?",
                    [("replace", "Replace it"), ("cancel", "Cancel")],
                    lambda choice: then(path) if choice == "replace" else None,
                )
                return
            then(path)

        self.push_screen(PathScreen(question, str(suggestion)), answered)

    def confirm(
        self: TrackerApp,
        question: str,
        choices: list[tuple[str, str]],
        then: Callable[[str], object],
    ) -> None:
        self.push_screen(ChoiceScreen(question, choices), lambda choice: then(choice or ""))

    # --- save -------------------------------------------------------------------------------

    def action_save(self: TrackerApp) -> None:
        self.save_then(lambda: None)

    def save_then(self: TrackerApp, then: Callable[[], object]) -> None:
        """Save (asking for a name when the song has none) and, once saved, run `then`."""
        path = self.document.path
        if path is None or path.suffix.lower() != ".song":
            self.save_as_then(then)
        elif self.save_to(None):
            then()

    def action_save_as(self: TrackerApp) -> None:
        self.save_as_then(lambda: None)

    def save_as_then(self: TrackerApp, then: Callable[[], object]) -> None:
        def chosen(path: Path) -> None:
            if self.save_to(path):
                then()

        self.ask_path("Save the song as:", suggested_path(self.document, ".song"), chosen)

    def save_to(self: TrackerApp, path: Path | None) -> bool:
        try:
            saved = self.document.save(path)
        except TrackerError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=8)
            return False
        self.update_title()
        self.notify(f"saved {saved.name}", timeout=2)
        return True

    def autosave_now(self: TrackerApp) -> None:
        try:
            self.document.autosave()
        except TrackerError as exc:
            self.notify(str(exc), title="Autosave failed", severity="warning")

    # --- open and recover -----------------------------------------------------------------

    def action_open(self: TrackerApp) -> None:
        def chosen(path: Path) -> None:
            try:
                document = Document.open(path)
            except TrackerError as exc:
                self.notify(str(exc), title="Not opened", severity="error", timeout=8)
                return
            self.replace_document(document)
            recovery = pending_recovery(document.path) if document.path else None
            if recovery is not None:
                self.offer_recovery(recovery)

        question = "Open a song or MIDI file:"
        self.unless_unsaved(lambda: self.ask_path(question, Path.cwd(), chosen, writes=False))

    def offer_recovery(self: TrackerApp, recovery: Path) -> None:
        """Recover, or set the recovery file aside (renamed `….recovery~`): there is no
        "later", because the next autosave would overwrite the file."""

        def answered(choice: str) -> None:
            if choice == "recover":
                try:
                    document = load_recovery(self.document.path, recovery)
                except TrackerError as exc:
                    self.notify(str(exc), title="Not recovered", severity="error", timeout=8)
                    return
                self.replace_document(document)
                self.notify(f"recovered unsaved edits from {recovery.name}")
            else:
                self.document.discard_recovery()
                self.notify(f"set aside as {recovery.name}~")

        question = (
            f"{recovery} holds edits newer than the song (the program stopped before saving)."
            " Recover them?"
        )
        self.confirm(question, [("recover", "Recover"), ("aside", "Set it aside")], answered)

    # --- unsaved changes --------------------------------------------------------------------

    def unless_unsaved(self: TrackerApp, then: Callable[[], object]) -> None:
        """Run `then`, after asking what to do with unsaved changes, if there are any."""
        if not self.document.dirty:
            then()
            return

        def answered(choice: str) -> None:
            if choice == "save":
                self.save_then(then)
            elif choice == "discard":
                self.document.discard_recovery()
                then()

        name = self.document.path.name if self.document.path else "the untitled song"
        choices = [("save", "Save"), ("discard", "Discard changes"), ("cancel", "Cancel")]
        self.confirm(f"Save the changes to {name}?", choices, answered)
