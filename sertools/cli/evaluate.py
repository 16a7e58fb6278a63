"""``sertools evaluate MODEL DATA``: metrics of a saved model on a corpus.

Notebook: ``book/09_project.ipynb`` (chapter "End-to-end project"); the metrics
are explained in ``book/08_evaluation.ipynb``.
"""

from __future__ import annotations

import argparse
import os

from sertools.cli import emit

HELP = "Evaluate a saved model on a corpus; print UAR, accuracy, macro-F1 and the confusion matrix as JSON."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sertools evaluate``."""
    parser.add_argument("model", help="model folder saved by `sertools train` (a ModelBundle)")
    parser.add_argument("data", help="folder with manifest.csv or a recognised corpus folder")
    parser.add_argument(
        "--split", choices=("train", "val", "test"), default=None,
        help="only the rows of this part of the manifest's split column (default: every row)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    """Evaluate MODEL on DATA and print one JSON object."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sertools.bundle import ModelBundle
    from sertools.errors import DataError
    from sertools.training import load_data

    bundle = ModelBundle.load(args.model)
    df = load_data(args.data)
    if args.split is not None:
        if "split" not in df.columns:
            raise DataError(f"{args.data}: --split {args.split} given but the manifest has no split column")
        df = df[df["split"].astype(str) == args.split]
        if len(df) == 0:
            raise DataError(f"{args.data}: no rows in split {args.split!r}")
    rep = bundle.evaluate(df, progress=not args.quiet)
    emit({"model": str(args.model), "data": str(args.data), "n": int(len(df)), **rep})
    return 0
