"""Freeze, flatten, resample and bounce through the command line, judged by null tests: the
difference of two renders that must be the same, at most -90 dBFS at its peak."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tracker.cli import main
from tracker.model.serialize import load_song, save_song
from tracker.model.song import EffectSpec, Master, Track, TrackKind
from tracker.paths import demo_song

NULL_DB = -90.0


def peak_db(a: np.ndarray, b: np.ndarray) -> float:
    """The peak of a - b in dBFS, the shorter padded with silence."""
    frames = max(len(a), len(b))
    a = np.pad(a, ((0, frames - len(a)), (0, 0)))
    b = np.pad(b, ((0, frames - len(b)), (0, 0)))
    difference = float(np.abs(a.astype(np.float64) - b).max())
    return -np.inf if difference == 0 else 20 * np.log10(difference)


def wav(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == 48000
    return data


def run(*args: str | Path) -> None:
    assert main([str(a) for a in args]) == 0


def bounce(song: Path, out: Path, *more: str | Path) -> np.ndarray:
    run("bounce", song, "-o", out, "--bits", "32f", *more)
    return wav(out)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    song = tmp_path / "demo.song"
    shutil.copy(demo_song(), song)
    return song


def test_freeze_flatten_and_resample_leave_the_mix_as_it_was(demo: Path, tmp_path: Path) -> None:
    plain = bounce(demo, tmp_path / "plain.wav")
    assert np.abs(plain).max() > 0.1

    run("freeze", demo, "--track", "Bass")
    frozen_song = load_song(demo)
    bass = frozen_song.tracks[1]
    assert bass.frozen == "audio/02-Bass.freeze.wav" and bass.instrument is not None
    assert any(1 in p.data for p in frozen_song.patterns.values())  # the notes are kept
    # The frozen file is the track's pre-fader render (rendered before freezing).
    run("unfreeze", demo, "--track", "Bass")
    prefader = bounce(demo, tmp_path / "bass.wav", "--track", "Bass")
    run("freeze", demo, "--track", "Bass")
    assert peak_db(wav(tmp_path / "audio/02-Bass.freeze.wav"), prefader) <= NULL_DB
    assert np.abs(prefader).max() > 0.05

    assert peak_db(bounce(demo, tmp_path / "frozen.wav"), plain) <= NULL_DB

    run("flatten", demo, "--track", "Bass")
    flat = load_song(demo).tracks[1]
    assert flat.kind is TrackKind.AUDIO and flat.frozen is None and flat.instrument is None
    assert not any(1 in p.data for p in load_song(demo).patterns.values())
    assert peak_db(bounce(demo, tmp_path / "flat.wav"), plain) <= NULL_DB

    run("resample", demo)
    added = load_song(demo).tracks[-1]
    assert added.kind is TrackKind.AUDIO and added.mute
    assert peak_db(wav(tmp_path / added.clips[0].path), plain) <= NULL_DB


def test_info_json_reports_kinds_and_frozen(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run("freeze", demo, "--track", "Keys")
    capsys.readouterr()
    run("info", demo, "--json")
    tracks = json.loads(capsys.readouterr().out)["tracks"]
    keys = next(t for t in tracks if t["name"] == "Keys")
    assert keys["kind"] == "instrument" and keys["frozen"] is True
    assert keys["audio"] == ["audio/03-Keys.freeze.wav"]
    assert all(t["frozen"] is False for t in tracks if t["name"] != "Keys")


def mixed(demo: Path, master_effects: list[EffectSpec] | None = None) -> None:
    """The demo with a group (Keys and Pad), a reverb return fed by the group and the lead, a
    delay on the lead and a filter on the group."""
    song = load_song(demo)
    for name in ("Keys", "Pad"):
        song.tracks[song.track_index(name)].output = "Synths"
    lead = song.tracks[song.track_index("Lead")]
    lead.effects = [EffectSpec("delay", {"time": 300.0, "feedback": 0.4, "mix": 0.3})]
    lead.sends = {"Room": -6.0}
    group = Track("Synths", kind=TrackKind.GROUP, volume_db=-2.0, sends={"Room": -10.0})
    group.effects = [EffectSpec("filter", {"mode": "lowpass", "cutoff": 3000.0})]
    room = Track("Room", kind=TrackKind.RETURN, effects=[EffectSpec("reverb", {"mix": 1.0})])
    song.tracks += [group, room]
    song.master = Master(0.0, master_effects or [])
    save_song(song, demo)


def test_stems_sum_to_the_mix_through_groups_and_returns(demo: Path, tmp_path: Path) -> None:
    mixed(demo)
    mix = bounce(demo, tmp_path / "mix.wav", "--stems", tmp_path / "stems")
    stems = sorted((tmp_path / "stems").glob("*.wav"))
    # Tracks inside the group have no stem of their own: the group's stem holds them.
    assert [p.name for p in stems] == [
        "01-Drums.wav",
        "02-Bass.wav",
        "05-Lead.wav",
        "06-Synths.wav",
        "07-Room.wav",
    ]
    total = sum(wav(p).astype(np.float64) for p in stems)
    assert peak_db(total.astype(np.float32), mix) <= NULL_DB
    assert np.abs(wav(tmp_path / "stems/07-Room.wav")).max() > 0.01  # the return is heard


def test_freezing_a_track_with_effects_in_a_group_leaves_the_mix(
    demo: Path, tmp_path: Path
) -> None:
    mixed(demo, [EffectSpec("limiter", {"ceiling": -1.0})])
    plain = bounce(demo, tmp_path / "plain.wav")
    assert np.abs(plain).max() <= 10 ** (-1 / 20) + 1e-6  # the limiter holds its ceiling
    run("freeze", demo, "--track", "Lead")  # its delay is in the render
    run("freeze", demo, "--track", "Pad")  # in the group
    assert peak_db(bounce(demo, tmp_path / "frozen.wav"), plain) <= NULL_DB
    run("flatten", demo, "--track", "Lead")
    assert peak_db(bounce(demo, tmp_path / "flat.wav"), plain) <= NULL_DB


def test_a_resampled_return_holds_the_reverb_tail(demo: Path, tmp_path: Path) -> None:
    mixed(demo)
    run("resample", demo, "--source", "Room", "--name", "Room print")
    song = load_song(demo)
    printed = wav(tmp_path / song.tracks[-1].clips[0].path)
    from tracker.engine.timeline import length_seconds

    song_end = round(length_seconds(song) * 48000)
    tail = printed[song_end:]
    # The demo fades out, so the tail is quiet, but it is there for seconds after the last
    # row, and then it dies away.
    assert len(tail) > 2 * 48000
    heard = np.abs(tail[: 48000 // 2]).max()
    assert heard > 1e-4
    assert np.abs(tail[-1024:]).max() < heard / 100


def test_bounce_normalizes_and_takes_a_tail(demo: Path, tmp_path: Path) -> None:
    loud = bounce(demo, tmp_path / "norm.wav", "--normalize", "--tail", "3")
    assert abs(np.abs(loud).max() - 10 ** (-0.3 / 20)) < 1e-4
    from tracker.engine.timeline import length_seconds

    assert len(loud) == round(length_seconds(load_song(demo)) * 48000) + 3 * 48000


def test_bad_freeze_requests_are_one_line_errors(demo: Path, tmp_path: Path, capsys) -> None:
    before = demo.read_bytes()
    cases = [
        (["freeze", demo, "--track", "Nope"], "no single track named 'Nope'"),
        (["flatten", demo, "--track", "Bass"], "is not frozen: freeze it first"),
        (["unfreeze", demo, "--track", "Bass"], "is not frozen"),
        (["resample", demo, "--source", "Nope"], "no single track"),
    ]
    for args, message in cases:
        assert main([str(a) for a in args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and str(demo) in err
    assert demo.read_bytes() == before
    song = load_song(demo)
    song.tracks[1].frozen = "audio/missing.wav"
    save_song(song, demo)
    assert main(["bounce", str(demo), "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "audio/missing.wav: audio file not found" in err and err.count("\n") == 1
    assert "track 'Bass' is frozen to" in err and "unfreezing it plays them again" in err
    assert not (tmp_path / "x.wav").exists()


def live_and_offline(song_path: Path, order_index: int, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Two seconds played live from (order_index, row), and the offline render from there."""
    from tests.test_live_transport import pull
    from tracker.audio.sinks import PullSink
    from tracker.commands.songs import song_folder
    from tracker.engine.timeline import song_tempo_map
    from tracker.live import Transport
    from tracker.render.offline import OfflineRender, RenderJob

    song = load_song(song_path)
    job = RenderJob(song, 48000, song_dir=song_folder(song_path))
    reference = np.concatenate([mix.copy() for mix, _ in OfflineRender(job).blocks()])
    tick = sum(song.pattern_ticks(p) for p in song.order[:order_index]) + row * song.ticks_per_line
    first = song_tempo_map(song).frame_at(tick, 48000)
    sink = PullSink()
    live = Transport(song, rate=48000, song_dir=song_folder(song_path), output=sink)
    try:
        live.play(order_index=order_index, row=row)
        heard = pull(sink, 2 * 48000)
    finally:
        live.close()
    return heard, reference[first : first + 2 * 48000]


def test_live_playback_of_a_frozen_routed_song_is_the_offline_render(demo: Path) -> None:
    mixed(demo)
    run("freeze", demo, "--track", "Bass")
    run("freeze", demo, "--track", "Pad")
    heard, reference = live_and_offline(demo, 0, 0)
    assert np.array_equal(heard, reference)
    assert np.abs(heard).max() > 0.05


def test_playing_from_a_repeated_pattern_reads_the_frozen_audio_of_that_place(demo: Path) -> None:
    # Order position 2 plays pattern 1 a second time: the frozen audio must come from where
    # position 2 lies in the arrangement, not from pattern 1's first place. (No effects here:
    # a reverb's or delay's state before a start cannot be known when playing from there.)
    run("freeze", demo, "--track", "Bass")
    run("freeze", demo, "--track", "Drums")
    song = load_song(demo)
    assert song.order[1:3] == [1, 1]
    for track in song.tracks[2:]:  # notes begun before a start are not played: frozen only
        track.mute = True
    save_song(song, demo)
    heard, reference = live_and_offline(demo, 2, 8)
    assert np.array_equal(heard, reference)
    assert np.abs(heard).max() > 0.05


async def test_the_app_offers_to_unfreeze_a_track_whose_audio_is_gone(demo: Path) -> None:
    from tracker.session.document import Document
    from tracker.ui.app import TrackerApp
    from tracker.ui.dialogs import ChoiceScreen

    run("freeze", demo, "--track", "Bass")
    (demo.parent / "audio/02-Bass.freeze.wav").unlink()
    app = TrackerApp(Document.open(demo), transport_factory=None, autosave_seconds=0)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "02-Bass.freeze.wav" in app.screen.question
        await pilot.press("u")  # Unfreeze
        await pilot.pause()
        assert app.document.song.tracks[1].frozen is None
        assert app.document.song.tracks[1].instrument is not None  # the notes play again


def test_freezing_several_tracks_in_one_pass_gives_each_its_own_render(
    demo: Path, tmp_path: Path
) -> None:
    plain = bounce(demo, tmp_path / "plain.wav")
    singles = {
        name: bounce(demo, tmp_path / f"{name}.wav", "--track", name) for name in ("Drums", "Pad")
    }
    run("freeze", demo, "--track", "Drums", "--track", "Pad")
    song = load_song(demo)
    for name, single in singles.items():
        track = song.tracks[song.track_index(name)]
        assert peak_db(wav(demo.parent / track.frozen), single) <= NULL_DB
    assert not list((demo.parent / "audio").glob(".*"))  # nothing else left behind
    run("freeze", demo, "--all")  # the rest
    assert all(t.frozen for t in load_song(demo).tracks)
    assert peak_db(bounce(demo, tmp_path / "frozen.wav"), plain) <= NULL_DB


def test_a_render_never_replaces_audio_a_song_may_still_play(demo: Path) -> None:
    run("freeze", demo, "--track", "Bass")
    first = demo.parent / "audio/02-Bass.freeze.wav"
    before = first.read_bytes()
    run("unfreeze", demo, "--track", "Bass")  # the file stays: an undo or a copy may use it
    song = load_song(demo)
    song.tracks[1].volume_db = -3.0  # not part of the render, but the song moved on
    save_song(song, demo)
    run("freeze", demo, "--track", "Bass")
    assert load_song(demo).tracks[1].frozen == "audio/02-Bass.freeze-2.wav"
    assert first.read_bytes() == before
    run("resample", demo)
    run("resample", demo)
    takes = [t.clips[0].path for t in load_song(demo).tracks if t.kind is TrackKind.AUDIO]
    assert takes == ["audio/Resample.resample.wav", "audio/Resample 2.resample.wav"]


def test_flatten_keeps_the_notes_when_the_audio_is_gone(demo: Path, capsys) -> None:
    run("freeze", demo, "--track", "Bass")
    (demo.parent / "audio/02-Bass.freeze.wav").write_bytes(b"not a wav")
    before = demo.read_bytes()
    capsys.readouterr()
    assert main(["flatten", str(demo), "--track", "Bass"]) == 2
    err = capsys.readouterr().err
    assert "missing or unreadable" in err and err.count("\n") == 1
    assert demo.read_bytes() == before


async def test_a_file_error_during_a_freeze_in_the_app_is_a_notice(demo: Path) -> None:
    from tests.test_ui_audio import notices, settle
    from tracker.session.document import Document
    from tracker.ui.app import TrackerApp

    (demo.parent / "audio").write_text("a file where the folder would go")
    app = TrackerApp(Document.open(demo), transport_factory=None, autosave_seconds=0)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4", "f")
        await settle(app, pilot)
        assert app.is_running and app.document.song.tracks[0].frozen is None
        assert "audio" in notices(app)


def frozen_only(demo: Path) -> None:
    """The demo with Bass and Drums frozen and the rest muted: what plays is frozen audio."""
    run("freeze", demo, "--track", "Bass", "--track", "Drums")
    song = load_song(demo)
    for track in song.tracks[2:]:
        track.mute = True
    save_song(song, demo)


def test_an_edit_that_rebuilds_the_mixer_keeps_the_audio_playing(demo: Path) -> None:
    from tests.test_live_transport import pull
    from tracker.audio.sinks import PullSink
    from tracker.commands.songs import song_folder
    from tracker.live import Transport
    from tracker.render.offline import OfflineRender, RenderJob

    frozen_only(demo)
    song = load_song(demo)
    job = RenderJob(song, 48000, song_dir=song_folder(demo))
    reference = np.concatenate([mix.copy() for mix, _ in OfflineRender(job).blocks()])
    sink = PullSink()
    live = Transport(song, rate=48000, song_dir=song_folder(demo), output=sink)
    try:
        live.play()
        first = pull(sink, 48000)
        # A filter on a muted track: a new mixer (its wiring changed), nothing new to hear.
        song.tracks[3].effects = [EffectSpec("filter", {"cutoff": 500.0})]
        live.update(song, None)
        second = pull(sink, 2 * 48000)
    finally:
        live.close()
    heard = np.concatenate([first, second])
    assert np.array_equal(heard, reference[: len(heard)])


def test_looping_a_repeated_pattern_plays_the_audio_of_that_place(demo: Path) -> None:
    from tests.test_live_transport import pull
    from tracker.audio.sinks import PullSink
    from tracker.commands.songs import song_folder
    from tracker.engine.timeline import song_tempo_map
    from tracker.live import Transport
    from tracker.render.offline import OfflineRender, RenderJob

    frozen_only(demo)
    song = load_song(demo)
    assert song.order[1:3] == [1, 1]
    job = RenderJob(song, 48000, song_dir=song_folder(demo))
    reference = np.concatenate([mix.copy() for mix, _ in OfflineRender(job).blocks()])
    tempo = song_tempo_map(song)
    start = tempo.frame_at(song.pattern_ticks(0) + song.pattern_ticks(1), 48000)
    sink = PullSink()
    live = Transport(song, rate=48000, song_dir=song_folder(demo), output=sink)
    try:
        live.play(order_index=2, loop=True)
        heard = pull(sink, 3 * 48000)
    finally:
        live.close()
    assert np.array_equal(heard, reference[start : start + 3 * 48000])


def test_live_playback_goes_on_when_a_clip_is_gone_and_says_so(demo: Path) -> None:
    from tests.test_live_transport import pull
    from tracker.audio.sinks import PullSink
    from tracker.commands.songs import song_folder
    from tracker.live import Transport

    run("resample", demo)  # an audio track, muted
    song = load_song(demo)
    (demo.parent / song.tracks[-1].clips[0].path).unlink()
    sink = PullSink()
    live = Transport(song, rate=48000, song_dir=song_folder(demo), output=sink)
    try:
        live.play()
        heard = pull(sink, 48000)
        audio = live.status().audio
    finally:
        live.close()
    assert np.abs(heard).max() > 0.1  # the rest of the song plays
    assert "Resample.resample.wav: audio file not found (silent)" in audio


def test_saving_into_another_folder_brings_the_audio(demo: Path, tmp_path: Path) -> None:
    from tracker.session.document import Document

    run("freeze", demo, "--track", "Bass")
    run("resample", demo)
    document = Document.open(demo)
    other = tmp_path / "elsewhere" / "copy.song"
    other.parent.mkdir()
    document.save(other)
    for track in load_song(other).tracks:
        for clip in track.audio_clips():
            assert (other.parent / clip.path).read_bytes() == (demo.parent / clip.path).read_bytes()
    plain = bounce(demo, tmp_path / "here.wav")
    assert peak_db(bounce(other, tmp_path / "there.wav"), plain) <= NULL_DB
