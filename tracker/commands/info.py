"""`tracker info`: what a song holds, for people or (with --json) for scripts."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tracker.commands.songs import open_song
from tracker.engine.timeline import length_seconds
from tracker.model.song import Song


def describe(song: Song) -> dict[str, Any]:
    return {
        "title": song.title,
        "bpm": song.bpm,
        "length_seconds": round(length_seconds(song), 6),
        "lines_per_beat": song.lines_per_beat,
        "ticks_per_line": song.ticks_per_line,
        "swing": song.swing,
        "order": list(song.order),
        "tracks": [
            {
                "name": t.name,
                "kind": t.kind.value,
                "instrument": song.instruments.get(t.instrument) if t.instrument else None,
                "channel": t.channel,
                "volume_db": t.volume_db,
                "pan": t.pan,
                "mute": t.mute,
                "solo": t.solo,
                "frozen": t.frozen is not None,
                "audio": [c.path for c in t.audio_clips()],
                "output": t.output,
                "sends": dict(t.sends),
                "effects": [e.kind for e in t.effects],
            }
            for t in song.tracks
        ],
        "patterns": [
            {"id": pid, "name": pattern.name, "rows": pattern.length}
            for pid, pattern in sorted(song.patterns.items())
        ],
    }


def run_info(args: argparse.Namespace) -> int:
    song, _ = open_song(args.song)
    info = describe(song)
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    minutes, seconds = divmod(info["length_seconds"], 60)
    print(f"{info['title']} — {info['bpm']:g} BPM, {int(minutes)}:{seconds:05.2f}")
    print(f"order: {' '.join(str(p) for p in info['order'])}")
    for t in info["tracks"]:
        flags = (" muted" if t["mute"] else "") + (" solo" if t["solo"] else "")
        flags += " frozen" if t["frozen"] else ""
        source = t["instrument"] or f"channel {t['channel']}"
        print(f"  {t['name']:<16} {t['kind']:<10} {source:<12} {t['volume_db']:+.1f} dB{flags}")
    for p in info["patterns"]:
        print(f"  pattern {p['id']}: {p['name'] or '(unnamed)'}, {p['rows']} rows")
    return 0
