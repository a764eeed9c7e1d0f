"""Crash safety of everything tracker writes, proven by trying to break it.

Every writer (song saves, the recovery file, WAV renders and stems, MIDI export, the latency
store, the shipped samples, audio copied on save-as) goes through `tracker.atomic`: a temporary
file beside the target, fsync, rename. The tests make each write fail the ways a disk does —
the kernel refusing a write past a file-size limit (RLIMIT_FSIZE, as a full disk does), the
rename failing, fsync failing, a full tmpfs, a read-only mount — and check the old file is
byte-identical, no temporary file is left, and the error is one line naming the file. They run
as root too (CI does), where chmod cannot make a folder read-only: the mechanisms here are
ones root cannot write through.

Run as `python -m tests.test_reliability_files ...`, this module is also the child process
the file-size-limit tests start (the limit is per process; the test runner must keep its own).
"""

from __future__ import annotations

import ast
import contextlib
import errno
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import soundfile

from tests.builders import note, one_track_song
from tests.conftest import REPO
from tracker.atomic import atomic_path, write_bytes_atomic
from tracker.model.errors import TrackerError
from tracker.model.serialize import load_song, save_song
from tracker.model.song import Clip, Pattern, Song, Track, TrackKind
from tracker.session.document import Document, load_recovery

DEMO = REPO / "patterns" / "demo.song"
LIMIT = 64  # bytes: RLIMIT_FSIZE for the child; every writer here writes more than this


def demo(title: str = "Night Bus") -> Song:
    song = load_song(DEMO)
    song.title = title
    return song


def leftovers(folder: Path) -> list[Path]:
    """Temporary files `atomic_path` left behind (`.<name>.<random>.tmp`)."""
    return sorted(p for p in folder.rglob("*.tmp") if p.name.startswith("."))


# --- the writers, each writing into a folder --------------------------------------------------


def write_song(folder: Path, variant: int) -> None:
    save_song(demo(f"take {variant}"), folder / "tune.song")


def write_recovery(folder: Path, variant: int) -> None:
    document = Document(demo(), folder / "tune.song")
    with document.history.edit("title", song_wide=True) as song:
        song.title = f"take {variant}"
    assert document.autosave()


def render_song(variant: int) -> Song:
    return one_track_song({0: note("C-4"), 2: note("E-4" if variant else "G-4")}, rows=4)


def write_render(folder: Path, variant: int) -> None:
    from tracker.render.offline import OfflineRender, RenderJob, render_to_wav

    job = RenderJob(render_song(variant), tail=0.1)
    render = OfflineRender(job, with_stems=True)
    render_to_wav(render, folder / "mix.wav", stems_dir=folder / "stems")


def write_midi(folder: Path, variant: int) -> None:
    from tracker.midi.export_file import export_midi

    export_midi(demo(f"take {variant}"), folder / "tune.mid")


def write_latency(folder: Path, variant: int) -> None:
    from tracker.live.latency_store import LatencyStore

    LatencyStore(folder / "latency.json").put("card", "synth", 0.01 + variant / 1000)


def write_samples(folder: Path, variant: int) -> None:
    from tracker.dsp import sample_synthesis

    with contextlib.redirect_stdout(None):
        sample_synthesis.main(folder)


WRITERS: dict[str, tuple[list[str], Callable[[Path, int], None]]] = {
    "song": (["tune.song"], write_song),
    "recovery": (["tune.song.recovery"], write_recovery),
    "render": (["mix.wav", "stems/01-T.wav"], write_render),
    "midi": (["tune.mid"], write_midi),
    "latency": (["latency.json"], write_latency),
    "samples": (["kick.wav"], write_samples),
}


def old_files(folder: Path, targets: list[str]) -> dict[str, bytes]:
    """Put an old version of every target in place (mode 0640, to see it kept)."""
    before = {}
    for name in targets:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # The latency store sets aside a file it cannot read: give it one it can.
        data = (
            b'{"version": 1, "latencies": {}}\n'
            if name == "latency.json"
            else b"the old version of " + name.encode() + b"\n" * 100
        )
        path.write_bytes(data)
        path.chmod(0o640)
        before[name] = data
    return before


def assert_failed_cleanly(message: str, folder: Path, before: dict[str, bytes]) -> None:
    assert "\n" not in message, message
    assert any(str(folder / name) in message for name in before), message
    for name, data in before.items():
        assert (folder / name).read_bytes() == data, f"{name} was touched"
    assert leftovers(folder) == []


def in_child(*args: str) -> dict:
    """Run this module as a child process (see `child`) and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_reliability_files", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def limit_file_size(limit: int = LIMIT) -> None:
    """From now on this process cannot write past `limit` bytes of any file: the kernel
    answers EFBIG (SIGXFSZ is ignored by Python), as a full disk answers ENOSPC. Root too."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


# --- every writer, failing ---------------------------------------------------------------------


@contextlib.contextmanager
def failing(monkeypatch: pytest.MonkeyPatch, step: str) -> Iterator[None]:
    """Make the rename or the fsync of every atomic write fail, as a full or dying disk can."""

    def fail(*args: object, **kwargs: object) -> None:
        code = errno.ENOSPC if step == "rename" else errno.EIO
        raise OSError(code, os.strerror(code))

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace" if step == "rename" else "fsync", fail)
        yield


@pytest.mark.parametrize("step", ["rename", "fsync"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_failing_write_leaves_the_old_file_whole(tmp_path, monkeypatch, writer, step) -> None:
    targets, write = WRITERS[writer]
    before = old_files(tmp_path, targets)
    with failing(monkeypatch, step), pytest.raises(TrackerError) as error:
        write(tmp_path, 1)
    assert_failed_cleanly(str(error.value), tmp_path, before)
    reason = "No space left on device" if step == "rename" else "Input/output error"
    assert reason in str(error.value)
    # And without the failure the same writer replaces every target, keeping its mode.
    write(tmp_path, 1)
    for name, data in before.items():
        path = tmp_path / name
        assert path.read_bytes() != data and path.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_write_past_a_file_size_limit_leaves_the_old_file_whole(tmp_path, writer) -> None:
    """The kernel itself refuses the write half-way (EFBIG), as a full disk does (ENOSPC)."""
    targets, _ = WRITERS[writer]
    before = old_files(tmp_path, targets)
    report = in_child("write", writer, str(tmp_path))
    assert report["error"] is not None, "the write did not fail: the limit did not bite"
    assert_failed_cleanly(report["error"], tmp_path, before)


def test_a_new_file_gets_the_usual_permissions_not_mkstemps(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        write_bytes_atomic(tmp_path / "new.song", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.song").stat().st_mode & 0o777 == 0o644


def test_a_name_near_the_length_limit_can_be_saved(tmp_path) -> None:
    name = "夜" * 80 + ".song"  # 245 bytes: the temporary name must not pass 255
    write_bytes_atomic(tmp_path / name, b"x")
    assert (tmp_path / name).read_bytes() == b"x" and leftovers(tmp_path) == []


def test_an_error_that_is_not_io_is_not_disguised(tmp_path) -> None:
    target = tmp_path / "x.song"
    target.write_bytes(b"old")
    with pytest.raises(ZeroDivisionError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        _ = 1 / 0
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


# --- the writers all go through tracker.atomic: an audit of the source -------------------------

# (file, function, primitive) → why it may write without atomic_path.
ALLOWED_WRITERS = {
    ("tracker/render/wav.py", "__init__", "SoundFile(w)"): (
        "WavWriter writes the temporary file render_to_wav got from atomic_path: the audit"
        " counts every `WavWriter(` as a write, so each one must sit beside an atomic_path"
    ),
    ("tracker/live/remote.py", "_quiet_on_a_terminal", "os.open(write)"): (
        "the audio engine's log (audio.log), appended to: a log, not the musician's work"
    ),
}


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else node.attr
    return ""


def writes_mode(call: ast.Call) -> bool:
    """Whether the call is given a file mode that writes ("w", "ab", "r+"…): the mode is the
    second argument of open() and wave.open(), the first of Path.open()."""
    nodes = [*call.args[:2], *(k.value for k in call.keywords if k.arg == "mode")]
    modes = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return any(
        m and len(m) <= 3 and set(m) <= set("rwabxt+") and set(m) & set("wax+") for m in modes
    )


SHUTIL_WRITES = {"copy", "copy2", "copyfile", "copytree", "move", "copyfileobj"}


def primitive(call: ast.Call, uses_mido: bool) -> str | None:
    """Which write primitive `call` is, if it is one."""
    name = dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name == "os.open":
        flags = ast.dump(call.args[1]) if len(call.args) > 1 else ""
        writes = any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT"))
        return "os.open(write)" if writes else None
    if last == "open":
        return "open(write)" if writes_mode(call) else None
    if last in ("write_bytes", "write_text", "tofile", "savez"):
        return last
    if name in ("sf.write", "soundfile.write", "np.save", "numpy.save"):
        return name
    if name.startswith("shutil.") and last in SHUTIL_WRITES:
        return name
    if last == "SoundFile" and writes_mode(call):
        return "SoundFile(w)"
    if last == "WavWriter":
        return "WavWriter"
    if last == "save" and uses_mido and name != "self.save":
        return "mido save"
    return None


def unguarded_writes() -> tuple[set[tuple[str, str, str]], set[str]]:
    """Every write primitive in tracker/ whose function does not call atomic_path (or
    write_bytes_atomic), and every file that has a primitive at all."""
    unguarded, writing_files = set(), set()
    for path in sorted((REPO / "tracker").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses_mido = "import mido" in path.read_text(encoding="utf-8")
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            calls = [
                n
                for n in ast.walk(function)
                if isinstance(n, ast.Call) and innermost(functions, n) is function
            ]
            guarded = (relative, function.name) == ("tracker/atomic.py", "atomic_path") or any(
                dotted(c.func).rsplit(".", 1)[-1] in ("atomic_path", "write_bytes_atomic")
                for c in calls
            )
            for call in calls:
                what = primitive(call, uses_mido)
                if what is None:
                    continue
                writing_files.add(relative)
                if not guarded:
                    unguarded.add((relative, function.name, what))
    return unguarded, writing_files


def innermost(functions: list[ast.AST], node: ast.AST) -> ast.AST | None:
    holders = [
        f
        for f in functions
        if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)  # type: ignore[attr-defined]
    ]
    return max(holders, key=lambda f: f.lineno, default=None)  # type: ignore[attr-defined]


def test_every_writer_in_the_source_goes_through_atomic_path() -> None:
    unguarded, writing_files = unguarded_writes()
    assert unguarded - ALLOWED_WRITERS.keys() == set(), (
        "a file written in place (a crash would leave half of it): use tracker.atomic"
    )
    assert ALLOWED_WRITERS.keys() - unguarded == set(), "an exception no longer needed"
    # The audit is not vacuous: it sees the writers this file also exercises.
    assert {
        "tracker/atomic.py",
        "tracker/midi/export_file.py",
        "tracker/render/offline.py",
        "tracker/live/latency_store.py",
        "tracker/dsp/sample_synthesis.py",
        "tracker/commands/record.py",
        "tracker/session/document.py",
    } <= writing_files


def test_the_audit_sees_a_write_in_place() -> None:
    tree = "import mido\ndef f(p):\n    open(p, 'w').write('x')\n    mido.MidiFile().save(p)\n"
    calls = [n for n in ast.walk(ast.parse(tree)) if isinstance(n, ast.Call)]
    assert {primitive(c, True) for c in calls} >= {"open(write)", "mido save"}
    assert primitive(ast.parse("open(p)").body[0].value, False) is None  # type: ignore[attr-defined]


# --- the recovery file lives until a save succeeds --------------------------------------------


def edit(document: Document, row: int = 1) -> None:
    from tracker.model.edits import write_note

    with document.history.edit("note", tracks=[(0, 0)]) as song:
        write_note(song, 0, 0, row, 0, 61)


def has_edit(song: Song, row: int = 1) -> bool:
    notes = song.patterns[0].get(0, row).notes
    return bool(notes) and notes[0].note == 61


@pytest.fixture
def song_file(tmp_path: Path) -> Path:
    path = tmp_path / "tune.song"
    shutil.copy(DEMO, path)
    return path


SAVE_FAILURES = ["rename fails", "fsync fails", "save as onto a folder", "save as under a file"]


@pytest.mark.parametrize("how", SAVE_FAILURES)
def test_a_failed_save_keeps_the_recovery_file_and_the_edits(song_file, monkeypatch, how) -> None:
    before = song_file.read_bytes()
    document = Document.open(song_file)
    edit(document)
    assert document.autosave()
    recovery = document.recovery_path()
    kept = recovery.read_bytes()
    target = None
    if how == "save as onto a folder":
        target = song_file.parent / "folder.song"
        (target / "inside").mkdir(parents=True)
    elif how == "save as under a file":
        (song_file.parent / "plain").write_text("a file, not a folder")
        target = song_file.parent / "plain" / "x.song"
    step = {"rename fails": "rename", "fsync fails": "fsync"}.get(how)
    with contextlib.ExitStack() as stack:
        if step is not None:
            stack.enter_context(failing(monkeypatch, step))
        with pytest.raises(TrackerError) as error:
            document.save(target)
    message = str(error.value)
    assert message.startswith(f"cannot write {target or song_file}: ") and "\n" not in message
    assert song_file.read_bytes() == before
    assert recovery.read_bytes() == kept
    assert document.dirty and document.path == song_file and has_edit(document.song)
    assert leftovers(song_file.parent) == []
    # Then a save that works removes the recovery file, and only then.
    assert document.save() == song_file
    assert not recovery.exists() and not document.dirty
    assert has_edit(load_song(song_file))


def test_a_save_past_a_file_size_limit_keeps_the_recovery_file(song_file) -> None:
    before = song_file.read_bytes()
    report = in_child("save", str(song_file))
    assert "File too large" in report["error"] and "\n" not in report["error"]
    assert report["dirty"] and report["path"] == str(song_file)
    assert song_file.read_bytes() == before and leftovers(song_file.parent) == []
    recovery = song_file.with_name("tune.song.recovery")
    restored = load_recovery(song_file, recovery)  # what the next start offers
    assert has_edit(restored.song)
    restored.save()
    assert not recovery.exists() and has_edit(load_song(song_file))


def test_save_as_elsewhere_removes_the_old_recovery_only_once_saved(song_file, tmp_path) -> None:
    document = Document.open(song_file)
    edit(document)
    document.autosave()
    old_recovery = document.recovery_path()
    other = tmp_path / "other" / "copy.song"
    other.parent.mkdir()
    document.save(other)
    assert not old_recovery.exists() and document.path == other and not document.dirty


def test_a_failed_autosave_keeps_the_last_recovery_file_and_tries_again(
    song_file, monkeypatch
) -> None:
    document = Document.open(song_file)
    edit(document, row=1)
    document.autosave()
    recovery = document.recovery_path()
    first = recovery.read_bytes()
    edit(document, row=2)
    with failing(monkeypatch, "rename"), pytest.raises(TrackerError) as error:
        document.autosave()
    assert str(error.value).startswith(f"cannot write {recovery}: ")
    assert recovery.read_bytes() == first and leftovers(song_file.parent) == []
    assert document.autosave()  # not marked written: the next one writes it
    assert has_edit(load_song(recovery), row=2)


def test_a_failed_audio_copy_on_save_as_saves_nothing(tmp_path, monkeypatch) -> None:
    import numpy as np
    import soundfile as sf

    source = tmp_path / "a"
    (source / "audio").mkdir(parents=True)
    sf.write(source / "audio" / "x.wav", np.zeros((4800, 2), np.float32), 48000)
    take = Track("Take", kind=TrackKind.AUDIO, clips=[Clip(0, "audio/x.wav")])
    song = Song(tracks=[take], patterns={0: Pattern(4)}, order=[0])
    save_song(song, source / "take.song")
    document = Document.open(source / "take.song")
    edit_title(document)
    target = tmp_path / "b" / "take.song"
    target.parent.mkdir()
    with failing(monkeypatch, "rename"), pytest.raises(TrackerError) as error:
        document.save(target)
    message = str(error.value)
    assert message.startswith(f"cannot write {target.parent / 'audio' / 'x.wav'}: No space left")
    assert message.endswith("; not saved") and "\n" not in message
    assert not target.exists() and leftovers(tmp_path) == []
    assert document.dirty and document.path == source / "take.song"


def edit_title(document: Document) -> None:
    with document.history.edit("title", song_wide=True) as song:
        song.title = "edited"


# --- SIGKILL in the middle of saving ----------------------------------------------------------

KILLS = 12


def test_sigkill_while_saving_leaves_one_whole_version(tmp_path) -> None:
    """A child saves two versions of the demo in turn as fast as it can; it is killed at a
    random moment, again and again. The song is always exactly one of the two versions.

    What the kill can leave is a hidden `.tune.song.<pid>.*.tmp` beside the song (the
    temporary file of the save it interrupted), never read by anything: counted here, and
    gone once the song is opened again."""
    song = tmp_path / "tune.song"
    versions = set()
    for variant in (0, 1):
        save_song(demo(f"take {variant}"), song)
        versions.add(song.read_bytes())
    stale = 0
    rng = random.Random(6)
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.test_reliability_files", "save-forever", str(song)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdout is not None and child.stdout.readline() == b"saving\n"
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert song.read_bytes() in versions
        stale += len(leftovers(tmp_path))
        Document.open(song)
        assert leftovers(tmp_path) == []
    print(
        f"{KILLS} kills mid-save: song whole every time; {stale} stale temporary files, each"
        " removed when the song was opened again"
    )


def test_opening_a_song_removes_only_the_temporary_files_of_dead_writers(tmp_path) -> None:
    song = tmp_path / "tune.song"
    save_song(demo("take"), song)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            f".tune.song.{dead_pid}.abc_1234.tmp": False,  # a killed save: removed
            f".tune.song.recovery.{dead_pid}.xyz98765.tmp": False,  # a killed autosave
            f".tune.song.{alive.pid}.abc_1234.tmp": True,  # saving right now: kept
            f".tune.song.{os.getpid()}.abc_1234.tmp": True,  # this process's own
            ".tune.song.abc_1234.tmp": True,  # no process id: not known to be stale
            ".tune.song.\u00b2.abc_1234.tmp": True,  # a digit to str.isdigit, not to int()
            f".tune.song.{10**20}.abc_1234.tmp": True,  # no such process id
            ".tune.song.4194305.notes.tmp": True,  # past Linux's highest process id
            f".other.song.{dead_pid}.abc_1234.tmp": True,  # another song's
            "tune.song.tmp": True,  # not hidden: the user's
        }
        for name in names:
            (tmp_path / name).write_text("partial")
        Document.open(song)
        kept = {name: (tmp_path / name).exists() for name in names}
        assert kept == names
        assert load_song(song).title == "take"
    finally:
        alive.kill()
        alive.wait()


def test_a_render_killed_mid_write_leaves_a_temporary_file_the_next_render_removes(
    tmp_path,
) -> None:
    """`tracker render` is killed (SIGKILL) while it streams the WAV into its temporary file:
    the output is not there, the partial temporary file is. Rendering the same file again
    removes it (a killed render of an hour in float WAV leaves gigabytes) and writes the WAV.
    Another process's temporary file of that WAV, alive, is left alone."""
    song = tmp_path / "tune.song"
    twice = demo("take")
    twice.order = twice.order * 2  # a render of seconds, to be killed in the middle of
    save_song(twice, song)
    wav = tmp_path / "tune.wav"
    render = [sys.executable, "-m", "tracker", "render", str(song), "-o", str(wav), "--bits", "16"]
    child = subprocess.Popen(render, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(size_of(p) > 0 for p in leftovers(tmp_path)):
        assert child.poll() is None, "the render ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].name.startswith(f".tune.wav.{child.pid}.")
    assert not wav.exists()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".tune.wav.{alive.pid}.abcd1234.tmp"
        busy.write_bytes(b"being written")
        subprocess.run(render, check=True, capture_output=True)
        assert leftovers(tmp_path) == [busy]
    finally:
        alive.kill()
        alive.wait()
    info = soundfile.info(str(wav))
    assert info.frames > 100 * info.samplerate  # the whole song (2 × 62 s), not the killed part


def size_of(path: Path) -> int:
    """0 for a file that went meanwhile (a render that ended and renamed its temp)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# --- in the app: a save that fails says so, and loses nothing ----------------------------------

SIZE = (160, 48)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder`, for a real full disk or a real read-only one.
    Needs root with CAP_SYS_ADMIN (a CI container may not have it: then the test skips)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Fill the disk `folder` is on to the last byte; the filler file, to free it again."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@contextlib.contextmanager
def obstacle(how: str, tmp_path: Path) -> Iterator[tuple[Path, Callable[[bool], None], str]]:
    """A folder to hold a song, `block(True)` to make writing there fail (and `block(False)`
    to let it work again), and the reason the error must give."""
    if how == "file-size limit":
        folder = tmp_path / "songs"
        folder.mkdir()
        old = resource.getrlimit(resource.RLIMIT_FSIZE)

        def block(on: bool) -> None:
            if on:  # 16 KiB: the demo song is 64 KiB
                limit_file_size(16_384)
            else:
                resource.setrlimit(resource.RLIMIT_FSIZE, old)

        try:
            yield folder, block, "File too large"
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, old)
    elif how == "full disk":
        with small_disk(tmp_path / "disk") as folder:

            def block(on: bool) -> None:
                if on:
                    fill(folder)
                else:
                    (folder / "filler").unlink()

            yield folder, block, "No space left on device"
    elif how == "read-only mount":
        with small_disk(tmp_path / "disk") as folder:
            try:
                yield (
                    folder,
                    lambda on: remount(folder, "ro" if on else "rw"),
                    "Read-only file system",
                )
            finally:
                remount(folder, "rw")
    else:  # chmod 0500 (not as root: see APP_SAVE_FAILURES)
        folder = tmp_path / "songs"
        folder.mkdir()
        try:
            yield folder, lambda on: folder.chmod(0o500 if on else 0o755), "Permission denied"
        finally:
            folder.chmod(0o755)


# chmod 0500 stops everyone but root; as root (CI) the read-only mount is the same case.
APP_SAVE_FAILURES = ["file-size limit", "full disk", "read-only mount"]
if os.geteuid() != 0:
    APP_SAVE_FAILURES.append("chmod 0500")


@pytest.mark.parametrize("how", APP_SAVE_FAILURES)
async def test_a_save_that_fails_in_the_app_says_why_and_keeps_everything(tmp_path, how) -> None:
    from tracker.ui.app import TrackerApp

    with obstacle(how, tmp_path) as (folder, block, reason):
        song = folder / "night.song"
        shutil.copy(DEMO, song)
        before = song.read_bytes()
        app = TrackerApp(Document.open(song), transport_factory=None, autosave_seconds=0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down", "z")  # C-4 on row 1 of the first track
            await pilot.pause()
            app.autosave_now()
            recovery = app.document.recovery_path()
            kept = recovery.read_bytes()
            block(True)
            try:
                await pilot.press("ctrl+s")
                await pilot.pause()
            finally:
                block(False)
            failed = [n for n in app._notifications if n.title == "Not saved"]
            assert len(failed) == 1 and failed[0].severity == "error"
            assert failed[0].message == f"cannot write {song}: {reason}"
            assert song.read_bytes() == before
            assert app.document.dirty and has_edit_c4(app.document.song)
            assert recovery.read_bytes() == kept
            assert leftovers(folder) == []
            # The obstacle gone, the same key saves the edits kept in memory.
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not app.document.dirty
        assert not recovery.exists() and has_edit_c4(load_song(song))


async def test_quit_then_save_that_fails_keeps_the_app_open(tmp_path) -> None:
    from tracker.ui.app import TrackerApp

    song = tmp_path / "night.song"
    shutil.copy(DEMO, song)
    before = song.read_bytes()
    app = TrackerApp(Document.open(song), transport_factory=None, autosave_seconds=0)
    with obstacle("file-size limit", tmp_path) as (_, block, reason):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down", "z", "ctrl+q")
            await pilot.pause()
            block(True)
            try:
                await pilot.press("s")  # Save: it fails, so the app must not quit
                await pilot.pause()
            finally:
                block(False)
            assert app.is_running and app.document.dirty and has_edit_c4(app.document.song)
            assert [n.message for n in app._notifications if n.title == "Not saved"] == [
                f"cannot write {song}: {reason}"
            ]
    assert song.read_bytes() == before


def has_edit_c4(song: Song) -> bool:
    notes = song.patterns[0].get(0, 1).notes
    return bool(notes) and notes[0].note == 60


# --- the child process ------------------------------------------------------------------------


def child(args: list[str]) -> None:
    """`write WRITER FOLDER`: run a writer under the file-size limit, print {"error": …}.
    `save SONG`: open, edit, autosave, then save under the limit; print what the app sees.
    `save-forever SONG`: save two versions in turn until killed."""
    command = args[0]
    if command == "write":
        _, write = WRITERS[args[1]]
        if args[1] == "render":  # compile and cache the synth before the limit, not under it
            import tempfile

            with tempfile.TemporaryDirectory() as warm:
                write(Path(warm), 0)
        limit_file_size()
        try:
            write(Path(args[2]), 1)
            error = None
        except TrackerError as exc:
            error = str(exc)
        print(json.dumps({"error": error}))
    elif command == "save":
        document = Document.open(Path(args[1]))
        edit(document)
        document.autosave()
        limit_file_size()
        try:
            document.save()
            error = None
        except TrackerError as exc:
            error = str(exc)
        print(json.dumps({"error": error, "dirty": document.dirty, "path": str(document.path)}))
    elif command == "save-forever":
        songs = [demo("take 0"), demo("take 1")]
        print("saving", flush=True)
        for turn in range(10**9):
            save_song(songs[turn % 2], Path(args[1]))


if __name__ == "__main__":
    child(sys.argv[1:])
