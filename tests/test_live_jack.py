"""Live playback through a real JACK server (dummy driver): what an independent client records
from the app's output ports is the offline render of the same song."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO, require_program
from tracker.model.serialize import load_song
from tracker.paths import demo_song
from tracker.render.offline import OfflineRender, RenderJob

RATE = 48000
RECORD_SECONDS = 3.0

PLAYER = """
import sys, time
from tracker.live import Transport
from tracker.live.remote import RemoteTransport
from tracker.model.serialize import load_song
from tracker.paths import demo_song

transport = {cls}(load_song(demo_song()), rate=48000, block=512)
print("open", transport.status().audio, flush=True)
sys.stdin.readline()
transport.play()
time.sleep(4.0)
print("underruns", transport.status().underruns, flush=True)
transport.close()
"""


def jack_ports(env: dict[str, str]) -> list[str]:
    listed = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5)
    return listed.stdout.split() if listed.returncode == 0 else []


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def jack_server(tmp_path: Path):
    jackd = require_program("jackd")
    require_program("jack_lsp")
    name = f"trk-{uuid.uuid4().hex[:8]}"  # a unique server; no client is ever named like it
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, PYTHONPATH=str(REPO))
    log = (tmp_path / "jackd.log").open("w")
    server = subprocess.Popen(
        [jackd, "-n", name, "-d", "dummy", "-r", str(RATE), "-p", "512"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_for(lambda: "system:playback_1" in jack_ports(env), 10):
            pytest.fail(f"jackd did not start: {(tmp_path / 'jackd.log').read_text()}")
        yield env
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def best_lag(recorded: np.ndarray, reference: np.ndarray) -> int:
    """The shift L with recorded[L + n] ≈ reference[n], by FFT cross-correlation."""
    size = 1 << int(np.ceil(np.log2(len(recorded) + len(reference))))
    spectrum = np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(reference, size))
    correlation = np.fft.irfft(spectrum, size)
    lag = int(np.argmax(correlation))
    return lag if lag < size - len(reference) else lag - size


@pytest.mark.parametrize("cls", ["Transport", "RemoteTransport"])
def test_jack_recording_is_the_offline_render(jack_server, tmp_path, cls):
    # RemoteTransport: the engine and the PortAudio client live in a child process.
    jack_rec = require_program("jack_rec")
    env = jack_server
    player = subprocess.Popen(
        [sys.executable, "-c", PLAYER.format(cls=cls)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        opened = player.stdout.readline()
        assert opened.startswith("open JACK"), opened + player.stderr.read()
        ports = sorted(p for p in jack_ports(env) if p.startswith("PortAudio") and ":out_" in p)
        assert len(ports) == 2, jack_ports(env)
        out = tmp_path / "out.wav"
        recorder = subprocess.Popen(
            [jack_rec, "-f", str(out), "-d", str(RECORD_SECONDS), "-b", "32", *ports],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # the recorder is connected before the song starts
        player.stdin.write("go\n")
        player.stdin.flush()
        recorder.wait(RECORD_SECONDS + 10)
        player.wait(15)
        assert player.returncode == 0, player.stderr.read()
    finally:
        if player.poll() is None:
            player.kill()
            player.wait()

    recorded, rate = sf.read(out, dtype="float32")
    assert rate == RATE and recorded.ndim == 2
    job = RenderJob(load_song(demo_song()), RATE)
    reference = np.concatenate([mix.copy() for mix, _ in OfflineRender(job).blocks()])
    reference = reference[: int(5 * RATE)]
    lag = best_lag(recorded[:, 0] + recorded[:, 1], reference[:, 0] + reference[:, 1])
    assert abs(lag) < RATE  # the song starts within a second of the recording
    heard = recorded[max(lag, 0) :]
    expected = reference[max(-lag, 0) : max(-lag, 0) + len(heard)]
    heard = heard[: len(expected)]
    assert len(heard) > 2 * RATE  # two seconds of the song at least were recorded
    correlation = np.corrcoef(heard.ravel(), expected.ravel())[0, 1]
    assert correlation >= 0.99, f"correlation {correlation:.4f} at lag {lag}"
