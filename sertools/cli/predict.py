"""``sertools predict MODEL FILE...``: the emotion of each audio file, one JSON line per file.

Notebook: ``book/09_project.ipynb`` (chapter "End-to-end project").
"""

from __future__ import annotations

import argparse
import os

from sertools.cli import emit

HELP = "Predict the emotion of audio files with a saved model; one JSON line per file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sertools predict``."""
    parser.add_argument("model", help="model folder saved by `sertools train` (a ModelBundle)")
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg)")


def run(args: argparse.Namespace) -> int:
    """Print ``{"path", "emotion", "probabilities"}`` for each FILE."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sertools.bundle import ModelBundle

    bundle = ModelBundle.load(args.model)
    for f in args.files:
        emit(bundle.predict_file(f))
    return 0
