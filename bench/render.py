"""Render speed and memory against FluidSynth, side by side in the same run.

    python bench/render.py [--repeat 3] [--corpus ../shared/corpus/midi]

For each file: our `tracker render FILE.mid` and `fluidsynth -ni -F out.wav -r 44100 FR3_GM.sf2
FILE.mid`, both as whole commands (start-up included), best of --repeat runs, interleaved so
machine noise hits both alike. Prints realtime factors, the ratio (FluidSynth time / ours) and
our peak RSS; last, a 30-minute song to show memory does not grow with length.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mido
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from long_midi import make_long_midi

REPO = Path(__file__).resolve().parents[1]
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def run(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr.strip()}")
    return elapsed, usage.ru_maxrss // 1024


def ours(midi: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "tracker", "render", str(midi), "-o", str(out),
            "--rate", "44100", "--bits", "16"]  # fmt: skip


def fluidsynth(midi: Path, out: Path) -> list[str]:
    return ["fluidsynth", "-ni", "-F", str(out), "-r", "44100", str(SOUNDFONT), str(midi)]


def bench_file(midi: Path, work: Path, repeat: int) -> dict[str, float]:
    our_wav, fs_wav = work / "ours.wav", work / "fluid.wav"
    best_ours = best_fs = float("inf")
    rss = 0
    for _ in range(repeat):
        seconds, peak = run(ours(midi, our_wav))
        best_ours, rss = min(best_ours, seconds), max(rss, peak)
        best_fs = min(best_fs, run(fluidsynth(midi, fs_wav))[0])
    length = sf.info(str(our_wav)).duration
    return {"length": length, "ours": best_ours, "fluid": best_fs, "rss": rss}


def empty_midi(path: Path) -> Path:
    """One short note: what remains of a render's time is the program's start-up."""
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=1),
                mido.Message("note_off", note=60, time=1),
            ]
        )
    )
    midi.save(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "midi")
    args = parser.parse_args()
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise SystemExit("needs fluidsynth and fluid-soundfont-gm (apt-get install ...)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        files = sorted(args.corpus.glob("*.mid")) if args.corpus.is_dir() else []
        files.append(make_long_midi(work / "long-6min-13ch.mid"))
        print(f"{'file':<28} {'length':>7} {'ours':>7} {'fluid':>7} {'ours x':>7}"
              f" {'fluid x':>7} {'ratio':>6} {'RSS MiB':>8}")  # fmt: skip
        results = {}
        for midi in files:
            r = results[midi] = bench_file(midi, work, args.repeat)
            print(
                f"{midi.name[:28]:<28} {r['length']:7.1f} {r['ours']:7.2f} {r['fluid']:7.2f}"
                f" {r['length'] / r['ours']:7.1f} {r['length'] / r['fluid']:7.1f}"
                f" {r['fluid'] / r['ours']:6.2f} {r['rss']:8d}"
            )
        start = bench_file(empty_midi(work / "empty.mid"), work, args.repeat)
        print(
            f"start-up (a one-note file): ours {start['ours']:.2f} s,"
            f" fluidsynth {start['fluid']:.2f} s"
        )
        long = results[files[-1]]
        steady = (long["fluid"] - start["fluid"]) / (long["ours"] - start["ours"])
        print(f"{files[-1].name}: ratio {long['fluid'] / long['ours']:.2f} as whole commands,"
              f" {steady:.2f} with each program's start-up taken off")  # fmt: skip
        longer = make_long_midi(work / "long-30min.mid", minutes=30.0, seed=2)
        seconds, rss = run(ours(longer, work / "ours30.wav"))
        print(f"30-minute song: our render {seconds:.1f} s, peak RSS {rss} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
