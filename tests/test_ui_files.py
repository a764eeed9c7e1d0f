"""The app's file actions never lose work: overwrite questions, recovery, quitting, opening."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Input

from tests.conftest import REPO
from tracker.model.serialize import load_song
from tracker.session.document import Document
from tracker.ui.app import TrackerApp
from tracker.ui.dialogs import ChoiceScreen, PathScreen

SIZE = (160, 48)
DEMO = REPO / "patterns" / "demo.song"


def demo_copy(tmp_path: Path, name: str = "night.song") -> Path:
    path = tmp_path / name
    shutil.copy(DEMO, path)
    return path


async def answer_path(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(pilot.app.screen, PathScreen)
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_save_as_over_another_song_asks_first(tmp_path: Path) -> None:
    other = demo_copy(tmp_path, "other.song")
    before = other.read_bytes()
    app = TrackerApp(Document.open(demo_copy(tmp_path)), autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "z", "ctrl+w")
        await answer_path(pilot, str(other))
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("c")  # Cancel
        await pilot.pause()
        assert other.read_bytes() == before and app.document.dirty
        await pilot.press("ctrl+w")
        await answer_path(pilot, str(other))
        await pilot.press("r")  # Replace it
        await pilot.pause()
        assert not app.document.dirty and app.document.path == other
    assert load_song(other).patterns[0].get(0, 1).notes[0].note == 60


async def test_render_and_export_never_write_over_the_song(tmp_path: Path) -> None:
    song = demo_copy(tmp_path)
    before = song.read_bytes()
    app = TrackerApp(Document.open(song), autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        from tracker.ui.palette import _export, _render

        for action in (_render, _export):
            action(app)
            await pilot.pause()
            await answer_path(pilot, str(song))
            assert not isinstance(app.screen, ChoiceScreen | PathScreen)
    assert song.read_bytes() == before


async def test_the_recovery_question_has_no_later_and_sets_the_file_aside(tmp_path: Path) -> None:
    song = demo_copy(tmp_path)
    recovery = song.with_name("night.song.recovery")
    recovery.write_bytes(DEMO.read_bytes())
    app = TrackerApp(Document.open(song), autosave_seconds=0, recovery=recovery)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert [c for c, _ in app.screen.choices] == ["recover", "aside"]
        await pilot.press("escape")  # the last choice: set aside, never lost
        await pilot.pause()
    assert not recovery.exists()
    assert song.with_name("night.song.recovery~").read_bytes() == DEMO.read_bytes()


async def test_discarding_on_quit_sets_the_recovery_aside(tmp_path: Path) -> None:
    song = demo_copy(tmp_path)
    app = TrackerApp(Document.open(song), autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "z")
        app.document.autosave()
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("d")  # Discard changes: the app quits
    assert app.return_code == 0
    assert not song.with_name("night.song.recovery").exists()
    assert song.with_name("night.song.recovery~").exists()


async def test_save_on_quit_for_an_untitled_song_saves_then_quits(tmp_path: Path) -> None:
    from tracker.model.templates import new_song

    target = tmp_path / "fresh.song"
    app = TrackerApp(Document(new_song(), None), autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z", "ctrl+q")
        await pilot.pause()
        await pilot.press("s")  # Save → asks for a name
        await pilot.pause()
        assert isinstance(pilot.app.screen, PathScreen)
        pilot.app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")  # saved: the app quits
    assert app.return_code == 0
    assert load_song(target).patterns[0].get(0, 0).notes[0].note == 60


async def test_an_empty_order_list_does_not_crash_the_app(tmp_path: Path) -> None:
    from tracker.model.templates import new_song

    song = new_song()
    song.order = []
    app = TrackerApp(Document(song, None), autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "plus", "minus", "delete", "insert")
        await pilot.pause()
        assert app.document.song.order == [0]
        assert app.is_running


async def test_opening_another_song_gives_it_a_transport_of_its_own(tmp_path: Path) -> None:
    first, second = demo_copy(tmp_path, "a.song"), demo_copy(tmp_path, "b.song")
    made: list[Path | None] = []

    def factory(document: Document) -> None:
        made.append(document.path)

    app = TrackerApp(Document.open(first), transport_factory=factory, autosave_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await app.transport_ready.wait()
        await pilot.press("ctrl+o")
        await answer_path(pilot, str(second))
        await app.transport_ready.wait()
        await pilot.pause()
    assert made == [first, second]
