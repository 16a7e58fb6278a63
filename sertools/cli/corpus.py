"""``sertools corpus OUT``: generate the synthetic emotional-speech corpus.

Writes 16-bit PCM WAV files and ``OUT/manifest.csv`` (``path,emotion,speaker,gender,corpus``,
paths relative to the CSV) with a progress bar on stderr, then prints one JSON
line (``manifest``, ``clips``, ``speakers``, ``emotions``, ``seed``, ``sr``).

Notebook: ``book/02_data.ipynb``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sertools.cli import emit
from sertools.datasets import EMOTIONS, PRESETS
from sertools.errors import DataError

HELP = "generate the synthetic emotional-speech corpus (WAVs + manifest.csv)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sertools corpus``."""
    parser.add_argument("out", metavar="OUT", help="output folder (created)")
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="size preset: 'small' (8 speakers x 3 clips per emotion) or 'default' "
        "(24 speakers x 8 clips); --speakers/--utterances override it (default: default)",
    )
    parser.add_argument("--speakers", type=int, metavar="N", help="number of speakers (alternately female, male)")
    parser.add_argument("--utterances", type=int, metavar="K", help="clips per speaker and emotion")
    parser.add_argument(
        "--emotions",
        nargs="+",
        metavar="EMOTION",
        help=f"subset of emotions (default all: {' '.join(EMOTIONS)})",
    )
    parser.add_argument("--seed", type=int, help="corpus seed (default 0)")
    parser.add_argument("--sr", type=int, help="sample rate in Hz (default 16000)")
    parser.add_argument(
        "--style", type=float, default=0.0,
        help="how individual each speaker's way of acting an emotion is (0 = same rules for all, "
        "the presets' setting; 1-2 = as different as real actors; default 0)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Generate the corpus and print a JSON summary line."""
    from sertools.synth import write_corpus

    cfg = dict(PRESETS[args.preset])
    for key, value in (("n_speakers", args.speakers), ("n_utterances", args.utterances), ("seed", args.seed), ("sr", args.sr)):
        if value is not None:
            cfg[key] = value
    if cfg["n_speakers"] < 1:
        raise DataError(f"--speakers must be at least 1, got {cfg['n_speakers']}")
    if cfg["n_utterances"] < 1:
        raise DataError(f"--utterances must be at least 1, got {cfg['n_utterances']}")
    if cfg["seed"] < 0:
        raise DataError(f"--seed must be non-negative, got {cfg['seed']}")
    emotions = list(args.emotions) if args.emotions else list(EMOTIONS)
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise DataError(f"--emotions: unknown emotion(s) {', '.join(unknown)}; choose from {', '.join(EMOTIONS)}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    manifest = write_corpus(out, emotions=emotions, style=args.style, progress=not args.no_progress, **cfg)
    emit(
        {
            "manifest": str(manifest),
            "clips": cfg["n_speakers"] * cfg["n_utterances"] * len(emotions),
            "speakers": cfg["n_speakers"],
            "emotions": emotions,
            "seed": cfg["seed"],
            "sr": cfg["sr"],
            "style": args.style,
        }
    )
    return 0
