"""Song and preset files are data, never code; the paths they name stay in their folder; nothing
listens on a network.

A song may come from anyone (a download, a git clone, a mail), and so may the folder it came in,
symlinks and all. These tests attack the reader and the loaders the way such a folder would.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO
from tracker.dsp.library import LOADERS, InstrumentLibrary
from tracker.model.errors import SongFormatError, TrackerError
from tracker.model.serialize import dumps, load_song, loads, save_song
from tracker.model.song import Clip, Pattern, Song, Track, TrackKind
from tracker.paths import instruments_dir
from tracker.session.document import Document

PACKAGE = REPO / "tracker"
RATE = 48000


def sources() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        found.append((relative, ast.parse(path.read_text(encoding="utf-8"), relative)))
    assert len(found) > 50, "the scan found too few modules to mean anything"
    return found


def dotted(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def uses(tree: ast.Module, modules: set[str], calls: set[str]) -> set[str]:
    """What `tree` imports of `modules` (and their submodules), and which of `calls` it makes
    (matched on the called name's last parts: `yaml.load`, `import_module`, `eval`)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            name = dotted(node.func).removeprefix("builtins.")
            # Builtins by their bare name only: `re.compile` is no `compile`.
            found.update(
                c for c in calls if name == c or (c not in BUILTINS and name.endswith(f".{c}"))
            )
            if any(k.arg == "allow_pickle" for k in node.keywords):
                found.add("allow_pickle")
            continue
        else:
            continue
        for name in names:
            found.update(m for m in modules if name == m or name.startswith(f"{m}."))
    return found


# Ways a file's content could become code, or choose which code runs.
CODE_MODULES = {
    "pickle",
    "_pickle",
    "cPickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "jsonpickle",
    "yaml",
    "runpy",
    "code",
    "codeop",
    "imp",
    "importlib.util",  # spec_from_file_location / exec_module: code from a path
    "importlib.machinery",
    "multiprocessing",  # its connections and queues unpickle what they receive
    "concurrent.futures.process",
}
BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
CODE_CALLS = BUILTINS | {
    "import_module",
    "yaml.load",
    "yaml.unsafe_load",
    "exec_module",
    "load_source",
    "spec_from_file_location",
    "ProcessPoolExecutor",
}

# Each exception says why it is safe; the test fails if one is no longer needed, so the list
# cannot rot into a blanket pass.
ALLOWED = {
    ("tracker/live/remote.py", "multiprocessing"): (
        "the audio engine's child process and the UI talk over a multiprocessing Pipe, which"
        " pickles: both ends are our own processes (spawned from our own code), never a file;"
        " tracker/live/status.py exists so the UI can unpickle the child's status cheaply"
    ),
    ("tracker/dsp/library.py", "import_module"): (
        "the module comes from the fixed LOADERS table, keyed by a preset's `type`, which the"
        " preset reader checks against KINDS first: a file chooses among three of our modules,"
        " never names one"
    ),
    ("tracker/live/__init__.py", "import_module"): (
        "lazy imports from the fixed _HOMES table, keyed by attribute names in our own code"
    ),
}


def test_no_module_turns_file_content_into_code() -> None:
    found = {
        (relative, what)
        for relative, tree in sources()
        for what in uses(tree, CODE_MODULES, CODE_CALLS)
    }
    assert found - ALLOWED.keys() == set(), "a way to run what a file says: see ALLOWED"
    assert ALLOWED.keys() - found == set(), "an exception no longer needed: remove it"


def test_the_scan_sees_what_it_looks_for() -> None:
    tree = ast.parse(
        "import pickle\nfrom yaml import load\nimport importlib\n"
        "importlib.import_module(x)\neval(s)\nnp.load(f, allow_pickle=True)\n"
        "re.compile('x')\nbuiltins.exec(c)\n"
    )
    assert uses(tree, CODE_MODULES, CODE_CALLS) == {
        "pickle",
        "yaml",
        "import_module",
        "eval",
        "exec",
        "allow_pickle",
    }


def test_a_preset_chooses_among_our_loaders_only(tmp_path: Path) -> None:
    assert all(module.startswith("tracker.dsp.") for module in LOADERS.values())
    (tmp_path / "evil.preset").write_text("type os\n")
    library = InstrumentLibrary(RATE, [tmp_path])
    with pytest.raises(SongFormatError, match=r"evil\.preset:1: type must be one of"):
        library.factory("evil")


@pytest.mark.parametrize("name", ["../bass", "..", "/etc/passwd", "a\\b", ""])
def test_a_preset_name_is_never_a_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(TrackerError, match="unknown instrument preset"):
        InstrumentLibrary(RATE, [tmp_path]).path(name)


# --- paths a song names ----------------------------------------------------------------------


def clip_song(path: str = "audio/x.wav", frozen: str | None = None) -> Song:
    tracks = [Track("Take", kind=TrackKind.AUDIO, clips=[Clip(0, path)])]
    if frozen is not None:
        tracks.append(Track("Syn", instrument=1, frozen=frozen))
    return Song(
        tracks=tracks, instruments={1: "bass"}, patterns={0: Pattern(4)}, order=[0], title="t"
    )


ESCAPES = ["../x.wav", "audio/../../x.wav", "/etc/passwd", "C:/x.wav", "a\\..\\x.wav", "./x.wav"]


@pytest.mark.parametrize("bad", ESCAPES)
@pytest.mark.parametrize("keyword", ["clip 0", "frozen"])
def test_a_song_naming_a_path_out_of_its_folder_is_refused(bad: str, keyword: str) -> None:
    text = dumps(clip_song(frozen="audio/f.wav"))
    good = '"audio/x.wav"' if keyword == "clip 0" else '"audio/f.wav"'
    quoted = '"' + bad.replace("\\", "\\\\") + '"'
    assert good in text
    with pytest.raises(SongFormatError) as error:
        loads(text.replace(good, quoted), "evil.song")
    message = str(error.value)
    assert message.startswith("evil.song:") and "\n" not in message
    assert "relative to the song's folder" in message or "'..' parts" in message


def test_the_writer_refuses_those_paths_too(tmp_path: Path) -> None:
    target = tmp_path / "x.song"
    for bad in ESCAPES:
        with pytest.raises(ValueError):
            save_song(clip_song(bad), target)
    assert list(tmp_path.iterdir()) == []


def write_wav(path: Path, frames: int = 480) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full((frames, 2), 0.25, np.float32), RATE, subtype="FLOAT")
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the song's, holding a perfectly good WAV the song must not reach."""
    folder = tmp_path / "elsewhere"
    write_wav(folder / "x.wav")
    (folder / "secret.txt").write_text("not yours\n")
    return folder


@pytest.fixture
def song_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "song"
    folder.mkdir()
    save_song(clip_song(), folder / "take.song")
    return folder


def test_a_symlinked_folder_out_of_the_song_folder_is_refused(song_dir, outside) -> None:
    (song_dir / "audio").symlink_to(outside, target_is_directory=True)  # audio -> elsewhere
    library = InstrumentLibrary(RATE, song_dir=song_dir)
    with pytest.raises(TrackerError) as error:
        library.clip("audio/x.wav")
    message = str(error.value)
    assert "\n" not in message and str(song_dir / "audio" / "x.wav") in message
    assert "leads outside" in message and str(outside / "x.wav") in message


def test_a_symlinked_file_out_of_the_song_folder_is_refused(song_dir, outside) -> None:
    (song_dir / "audio").mkdir()
    (song_dir / "audio" / "x.wav").symlink_to(outside / "x.wav")
    with pytest.raises(TrackerError, match="leads outside"):
        InstrumentLibrary(RATE, song_dir=song_dir).clip("audio/x.wav")


def test_a_symlink_loop_is_refused_on_one_line(song_dir) -> None:
    (song_dir / "audio").mkdir()
    (song_dir / "audio" / "x.wav").symlink_to(song_dir / "audio" / "x.wav")
    with pytest.raises(TrackerError) as error:
        InstrumentLibrary(RATE, song_dir=song_dir).clip("audio/x.wav")
    assert "\n" not in str(error.value) and "x.wav" in str(error.value)


def test_symlinks_that_stay_inside_play(song_dir) -> None:
    write_wav(song_dir / "takes" / "x.wav")
    (song_dir / "audio").symlink_to("takes", target_is_directory=True)
    assert InstrumentLibrary(RATE, song_dir=song_dir).clip("audio/x.wav").shape == (480, 2)


def test_a_symlink_into_the_shipped_instruments_plays(song_dir) -> None:
    kick = instruments_dir() / "samples" / "kick.wav"
    assert kick.is_file()
    (song_dir / "audio").mkdir()
    (song_dir / "audio" / "x.wav").symlink_to(kick)
    assert len(InstrumentLibrary(RATE, song_dir=song_dir).clip("audio/x.wav")) > 0


def test_rendering_such_a_song_is_one_line_naming_the_file(song_dir, outside) -> None:
    (song_dir / "audio").symlink_to(outside, target_is_directory=True)
    out = song_dir / "out.wav"
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "render", str(song_dir / "take.song"), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "audio/x.wav" in result.stderr
    assert "leads outside" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_save_as_never_copies_a_file_from_outside_the_folder(tmp_path, song_dir, outside) -> None:
    (song_dir / "audio").symlink_to(outside, target_is_directory=True)
    (song_dir / "notes.wav").symlink_to(outside / "secret.txt")
    document = Document(clip_song(), song_dir / "take.song")
    document.song.tracks[0].clips.append(Clip(96, "notes.wav"))
    copy = tmp_path / "copy" / "take.song"
    copy.parent.mkdir()
    assert document.save(copy) == copy
    assert sorted(p.name for p in copy.parent.iterdir()) == ["take.song"]
    assert load_song(copy).tracks[0].clips[0].path == "audio/x.wav"  # the song is kept whole


def test_save_as_never_writes_through_a_symlink_out_of_the_new_folder(
    tmp_path, song_dir, outside
) -> None:
    write_wav(song_dir / "audio" / "y.wav")
    document = Document(clip_song("audio/y.wav"), song_dir / "take.song")
    target = tmp_path / "target"
    target.mkdir()
    (target / "audio").symlink_to(outside, target_is_directory=True)
    document.save(target / "take.song")
    assert not (outside / "y.wav").exists()


# --- paths a preset names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset",
    [
        "type sampler\nsample ../../etc/passwd root C-4\n",
        "type sampler\nsample /etc/passwd root C-4\n",
        "type drumkit\nkey 36 ../../etc/passwd\n",
        "type drumkit\nkey 36 samples/../../x.wav\n",
    ],
)
def test_a_preset_naming_a_sample_out_of_its_folder_is_refused(song_dir, preset) -> None:
    (song_dir / "evil.preset").write_text(preset)
    library = InstrumentLibrary(RATE, [song_dir], song_dir)
    with pytest.raises(SongFormatError) as error:
        library.factory("evil")
    message = str(error.value)
    assert message.startswith(f"{song_dir / 'evil.preset'}:2: sample path ")
    assert "must stay inside" in message and "\n" not in message


def test_a_preset_whose_samples_folder_is_a_symlink_out_is_refused(song_dir, outside) -> None:
    (song_dir / "samples").symlink_to(outside, target_is_directory=True)
    (song_dir / "evil.preset").write_text("type drumkit\nkey 36 samples/x.wav\n")
    with pytest.raises(SongFormatError, match=r"evil\.preset:2: sample path .* leads outside"):
        InstrumentLibrary(RATE, [song_dir], song_dir).factory("evil")


def test_a_preset_that_is_a_symlink_out_is_refused(song_dir, outside) -> None:
    (outside / "evil.preset").write_text("type drumkit\nkey 36 x.wav\n")
    (song_dir / "evil.preset").symlink_to(outside / "evil.preset")
    with pytest.raises(TrackerError) as error:
        InstrumentLibrary(RATE, [song_dir], song_dir).factory("evil")
    assert "preset leads outside" in str(error.value) and "\n" not in str(error.value)


# --- the network ------------------------------------------------------------------------------

NETWORK_MODULES = {
    "socket",
    "socketserver",
    "ssl",
    "http",
    "xmlrpc",
    "asyncio.base_events",
    "urllib.request",
    "ftplib",
    "smtplib",
    "websockets",
    "aiohttp",
    "zmq",
    "mido.sockets",  # mido's MIDI-over-TCP ports
}
NETWORK_CALLS = {
    "start_server",
    "create_server",
    "start_unix_server",
    "open_connection",
    "create_connection",
    "create_datagram_endpoint",
    "serve_forever",
    "socketpair",
    "PortServer",
}


def test_no_module_opens_a_network_socket() -> None:
    found = {
        (relative, what)
        for relative, tree in sources()
        for what in uses(tree, NETWORK_MODULES, NETWORK_CALLS)
    }
    assert found == set(), "something talks to the network: it must bind to 127.0.0.1 only"


def test_the_audio_engine_holds_no_internet_socket(tmp_path: Path) -> None:
    """The app's real set-up, the engine in a child process playing, inspected from outside:
    every socket either process holds (Python's or a C library's: PortAudio, JACK, ALSA) is
    looked up in the kernel's TCP and UDP tables; a listening one there would have to be on
    loopback. The multiprocessing pipe is a Unix socket pair and appears in neither."""
    script = textwrap.dedent(
        """
        import json, os, sys, time
        from tracker.live.remote import RemoteTransport
        from tracker.model.serialize import load_song
        from tracker.paths import demo_song

        def sockets(pid):
            inodes = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            found = []
            for proto in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
                try:
                    lines = open(f"/proc/{pid}/net/{proto}").read().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    fields = line.split()
                    if fields[9] in inodes:
                        found.append((proto, fields[1], fields[3]))
            return found

        with RemoteTransport(load_song(demo_song()), song_dir=demo_song().parent) as live:
            live.play()
            time.sleep(1.0)
            child = live.process.pid
            seen = {"parent": sockets(os.getpid()), "child": sockets(child)}
            live.stop()
        print(json.dumps(seen))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=180
    )
    assert result.returncode == 0, result.stderr
    import json

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    for who, found in seen.items():
        for proto, local, _state in found:
            assert is_loopback(local), f"{who} holds a {proto} socket on {local}"


def is_loopback(local: str) -> bool:
    """`0100007F:1F90` (IPv4, little-endian words) or the IPv6 equivalent, from /proc/net."""
    address = local.split(":")[0]
    raw = bytes.fromhex(address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return words[0] == 127
    mapped_v4 = words[:12] == bytes(10) + b"\xff\xff"  # ::ffff:127.x.x.x
    return words == bytes(15) + b"\x01" or (mapped_v4 and words[12] == 127)


def test_the_loopback_check_reads_the_kernel_tables_right() -> None:
    assert is_loopback("0100007F:1F90")  # 127.0.0.1
    assert not is_loopback("00000000:1F90")  # 0.0.0.0
    assert is_loopback("00000000000000000000000001000000:1F90")  # ::1
    assert not is_loopback("00000000000000000000000000000000:1F90")  # ::
