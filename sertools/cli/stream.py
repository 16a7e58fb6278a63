"""``sertools stream MODEL FILE``: emotion over time, one JSON line per window.

Notebook: ``book/10_applications.ipynb`` (chapter "Applications").
"""

from __future__ import annotations

import argparse

from sertools.cli import emit

HELP = "Classify a long recording window by window; print one JSON line per window."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sertools stream``."""
    parser.add_argument("model", help="model folder saved by `sertools train` (a ModelBundle)")
    parser.add_argument("file", help="audio file (wav, flac, ogg)")
    parser.add_argument("--window", type=float, default=2.0, help="window length in seconds (default 2.0)")
    parser.add_argument("--hop", type=float, default=0.5, help="step between windows in seconds (default 0.5)")
    parser.add_argument(
        "--smoothing", type=float, default=1.0,
        help="time constant in seconds of the moving average of the probabilities; 0 = off (default 1.0)",
    )
    parser.add_argument(
        "--vad-db", type=float, default=-45.0,
        help="a window is speech when 20%% of its 25 ms frames are above this level in dBFS (default -45)",
    )
    parser.add_argument(
        "--no-vad", action="store_true", help="classify every window, silent ones included"
    )


def run(args: argparse.Namespace) -> int:
    """Stream FILE through MODEL and print the windows as JSON lines."""
    from sertools.bundle import ModelBundle
    from sertools.stream import default_vad, stream_file

    bundle = ModelBundle.load(args.model)
    threshold = float(args.vad_db)

    def gate(y, sr):
        return default_vad(y, sr, threshold_db=threshold)

    for w in stream_file(
        bundle, args.file, window=args.window, hop=args.hop,
        smoothing=args.smoothing, vad=False if args.no_vad else gate,
    ):
        probs = w["probabilities"]
        emit({
            "start": round(w["start"], 4),
            "end": round(w["end"], 4),
            "voiced": w["voiced"],
            "emotion": w["emotion"],
            "probabilities": None if probs is None else {k: round(v, 4) for k, v in probs.items()},
        })
    return 0
