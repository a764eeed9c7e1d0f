"""The core stays reachable without a TUI or an audio device (ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

# live/ and audio/ too: audio imports sounddevice only inside functions, when a stream opens.
CORE = (
    "tracker.model",
    "tracker.engine",
    "tracker.dsp",
    "tracker.render",
    "tracker.midi",
    "tracker.session",
    "tracker.live",
    "tracker.audio",
)


def test_core_imports_neither_textual_nor_sounddevice():
    modules = ", ".join(CORE)
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE!r}:\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'sounddevice')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"{modules} pulled in: {result.stdout}"


def test_the_app_module_does_not_load_the_audio_engine_before_its_first_frame():
    # Start-up: numba and the instruments load in a worker after the first frame.
    code = (
        "import sys, tracker.ui.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'sounddevice')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
