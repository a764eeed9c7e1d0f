"""The command line: argument parsing and one-line errors. The work happens elsewhere."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tracker import __version__
from tracker.model.errors import TrackerError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other error (`--help` shows
    the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tracker",
        description="A terminal tracker/sequencer. `tracker [SONG]` opens the app "
        "(tracker SONG --help for its options); these commands run without it.",
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for name, help_text in (
        ("render", "render a song (or one pattern or track) to WAV"),
        ("bounce", "the same as render: the mix, and stems with --stems"),
    ):
        render = commands.add_parser(name, help=help_text, description=help_text)
        render.add_argument("song", nargs="?", type=Path, help="song or .mid file (default: demo)")
        render.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
        render.add_argument("--pattern", type=int, help="render this pattern id alone")
        render.add_argument("--track", help="render this track alone, pre-fader")
        render.add_argument("--stems", type=Path, metavar="DIR", help="also write one WAV a track")
        render.add_argument("--rate", type=int, default=48000, choices=(44100, 48000, 96000))
        render.add_argument("--bits", default="24", choices=("16", "24", "32f"))
        render.add_argument(
            "--normalize", action="store_true", help="scale so the loudest sample is -0.3 dBFS"
        )
        render.add_argument(
            "--tail",
            type=_tail_seconds,
            metavar="SECONDS",
            help="render this long after the end (default: until reverb and delay die away)",
        )
        render.set_defaults(run=_run_render)
    freeze = commands.add_parser(
        "freeze",
        help="render tracks pre-fader to audio they then play (notes kept, locked)",
        description="Render each track's instrument and its own effects (not volume, pan or "
        "sends) to audio/NN-NAME.freeze.wav beside the song; the track then plays that. "
        "Several tracks freeze in one pass.",
    )
    freeze.add_argument("song", type=Path)
    which = freeze.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--track", action="append", help="track name (or unique start of it); repeatable"
    )
    which.add_argument("--all", action="store_true", help="every instrument track not frozen")
    live = freeze.add_argument_group(
        "a MIDI track", "freezes in real time: played to its synth, recorded back from --input"
    )
    live.add_argument("--input", metavar="CHANNELS", help="input channels: 1, 1,2 or 1-2")
    live.add_argument("--audio-device", metavar="DEV", help="input device: name or part of it")
    _midi_api_option(live)
    live.add_argument("--tail", type=float, default=2.0, metavar="SECONDS")
    live.add_argument("--preroll", type=float, default=1.0, metavar="SECONDS")
    live.add_argument("--remeasure", action="store_true", help="measure the round trip again")
    freeze.set_defaults(run=_run_freezing, action="freeze")
    for name, help_text in (
        ("unfreeze", "play a frozen track's instrument again"),
        ("flatten", "turn a frozen track into an audio track (notes and instrument gone)"),
    ):
        step = commands.add_parser(name, help=help_text, description=help_text)
        step.add_argument("song", type=Path)
        step.add_argument("--track", required=True, help="track name (or unique start of it)")
        step.set_defaults(run=_run_freezing, action=name)
    resample = commands.add_parser(
        "resample",
        help="record what reaches the master (or a track) into a new audio track",
        description="Render what reaches the master, or with --source a group, return or "
        "track after its effects and fader, into a new audio track (added muted).",
    )
    resample.add_argument("song", type=Path)
    resample.add_argument("--source", help="a track, group or return (default: the master)")
    resample.add_argument("--name", default="Resample", help="the new track's name")
    resample.set_defaults(run=_run_freezing, action="resample")
    imp = commands.add_parser("import", help="import a MIDI file into a song file")
    imp.add_argument("midi", type=Path)
    imp.add_argument("-o", "--output", type=Path, required=True, help="song file to write")
    imp.add_argument("--force", action="store_true", help="replace an existing song file")
    imp.set_defaults(run=_run_import)
    exp = commands.add_parser("export", help="export a song to a type 1 MIDI file")
    exp.add_argument("song", type=Path)
    exp.add_argument("-o", "--output", type=Path, required=True, help="MIDI file to write")
    exp.set_defaults(run=_run_export)
    info = commands.add_parser("info", help="describe a song")
    info.add_argument("song", type=Path)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(run=_run_info)
    play = commands.add_parser(
        "play",
        help="play a song without the app (audio device and MIDI ports)",
        description="Play a song: built-in instruments to the audio device, MIDI tracks to "
        "their ports. Stops at the song's end (unless --loop), after --duration, or on ctrl-c "
        "or SIGTERM; every note sent gets its note-off.",
    )
    play.add_argument("song", nargs="?", type=Path, help="song or .mid file (default: demo)")
    play.add_argument(
        "--midi-out", metavar="PORT", help="send every track to this port, each on its channel"
    )
    play.add_argument(
        "--virtual", action="store_true", help="make --midi-out a port of ours others connect to"
    )
    _midi_api_option(play)
    play.add_argument("--duration", type=_seconds, metavar="SECONDS", help="stop after this long")
    play.add_argument("--loop", action="store_true", help="loop the song (its loop, else all)")
    play.add_argument(
        "--clock-out",
        action="append",
        metavar="PORT[@MS]",
        help="send MIDI clock, start/stop/continue and song position here, MS later "
        "(negative: earlier) for gear that lags; may be given more than once",
    )
    play.add_argument(
        "--clock-in",
        metavar="PORT",
        help="follow MIDI clock from this input: its start/stop/continue and song position "
        "drive playing, its tempo replaces the song's",
    )
    play.add_argument("--audio-device", metavar="DEV", help="output device: name or part of it")
    play.set_defaults(run=_run_play)
    record = commands.add_parser(
        "record",
        help="play a track to a hardware synth over MIDI and record its audio back",
        description="Play one MIDI track to its synth and record the synth's audio from "
        "input channels of the audio device into a WAV aligned to the song. The round trip "
        "is measured with a test note (once per device and port; stored) and compensated.",
    )
    record.add_argument("song", type=Path)
    record.add_argument("--track", required=True, help="the MIDI track to play and record")
    record.add_argument(
        "--input", required=True, metavar="CHANNELS", help="input channels: 1, 1,2 or 1-2"
    )
    record.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    record.add_argument("--audio-device", metavar="DEV", help="input device: name or part of it")
    _midi_api_option(record)
    record.add_argument(
        "--tail", type=float, default=2.0, metavar="SECONDS", help="record this long after"
    )
    record.add_argument(
        "--preroll", type=float, default=1.0, metavar="SECONDS", help="wait before measuring"
    )
    record.add_argument(
        "--remeasure", action="store_true", help="measure the round trip even if stored"
    )
    record.set_defaults(run=_run_record)
    ports = commands.add_parser("ports", help="list MIDI ports and audio devices")
    _midi_api_option(ports)
    ports.set_defaults(run=_run_ports)
    return parser


def _midi_api_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--midi-api",
        choices=("alsa", "jack"),
        help="MIDI system (default: $TRACKER_MIDI_API, else ALSA where it exists, else JACK)",
    )


def _tail_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 to 600 seconds")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 1e7:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


SUBCOMMANDS = (
    "render",
    "bounce",
    "import",
    "export",
    "info",
    "play",
    "record",
    "ports",
    "freeze",
    "unfreeze",
    "flatten",
    "resample",
)


def build_app_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tracker",
        description="Open the terminal app on a song (no SONG: a copy of the demo). Commands "
        f"without the app: {', '.join(SUBCOMMANDS)} (tracker --help).",
    )
    parser.add_argument("song", nargs="?", type=Path, help="song or .mid file to edit")
    parser.add_argument(
        "--audio-device", metavar="DEV", help="output device: exact name or unique part of it"
    )
    parser.add_argument(
        "--autosave",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="save unsaved edits to a recovery file this often (default 30, 0: never)",
    )
    _midi_api_option(parser)
    parser.set_defaults(run=_run_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    opens_app = not arguments or (
        arguments[0] not in SUBCOMMANDS and arguments[0] not in ("-h", "--help", "--version")
    )
    parser = build_app_parser() if opens_app else build_parser()
    args = parser.parse_args(arguments)
    try:
        return int(args.run(args) or 0)
    except TrackerError as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        # What the layers below did not word themselves: still one line, naming the file.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tracker: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tracker: interrupted", file=sys.stderr)
        return 130


def _run_app(args: argparse.Namespace) -> int:
    from tracker.commands.app import run_app

    return run_app(args)


def _run_render(args: argparse.Namespace) -> int:
    from tracker.commands.render import run_render

    return run_render(args)


def _run_import(args: argparse.Namespace) -> int:
    from tracker.commands.convert import run_import

    return run_import(args)


def _run_export(args: argparse.Namespace) -> int:
    from tracker.commands.convert import run_export

    return run_export(args)


def _run_play(args: argparse.Namespace) -> int:
    from tracker.commands.play import run_play

    return run_play(args)


def _run_record(args: argparse.Namespace) -> int:
    from tracker.commands.record import run_record

    return run_record(args)


def _run_ports(args: argparse.Namespace) -> int:
    from tracker.commands.play import run_ports

    return run_ports(args)


def _run_info(args: argparse.Namespace) -> int:
    from tracker.commands.info import run_info

    return run_info(args)


def _run_freezing(args: argparse.Namespace) -> int:
    from tracker.commands import freezing

    run = {
        "freeze": freezing.run_freeze,
        "unfreeze": freezing.run_unfreeze,
        "flatten": freezing.run_flatten,
        "resample": freezing.run_resample,
    }[args.action]
    return run(args)
