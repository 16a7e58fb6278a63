"""``sertools train DATA --out MODEL``: train a model with the leak-free protocol and save it.

Notebook: ``book/09_project.ipynb`` (chapter "End-to-end project"); the
protocol is explained in ``book/07_training_without_leaks.ipynb``.
"""

from __future__ import annotations

import argparse
import os

from sertools.cli import emit

HELP = "Train a model on a corpus (speaker-independent split) and save it as a model folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sertools train``."""
    from sertools.training import DEFAULT_MODEL, MODEL_KINDS

    parser.add_argument(
        "data", help="folder with manifest.csv (e.g. from `sertools corpus`) or a RAVDESS/CREMA-D/EmoDB/TESS/SAVEE folder"
    )
    parser.add_argument("--out", required=True, help="model folder to write (a ModelBundle)")
    parser.add_argument(
        "--model", choices=MODEL_KINDS, default=DEFAULT_MODEL,
        help=f"model type (default {DEFAULT_MODEL}, the book's best; svm = functionals + SVM baseline)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default per model; early stopping on validation UAR)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights and augmentation (default 0)")
    parser.add_argument("--noise-snr", type=float, default=20.0, metavar="DB",
                        help="deep models also train on a noisy copy of each training clip at this SNR in dB (default 20)")
    parser.add_argument("--no-noise", action="store_true", help="no noisy copies of the training clips")
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--full", action="store_true", help="print the full reports (per class, confusion) too")


def run(args: argparse.Namespace) -> int:
    """Train, save the bundle to ``--out`` and print the metrics as one JSON object."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from sertools.errors import DataError
    from sertools.training import train

    if args.epochs is not None and args.epochs < 1:
        raise DataError(f"--epochs {args.epochs}: must be at least 1")
    result = train(
        args.data, model=args.model, epochs=args.epochs, seed=args.seed,
        noise_snr_db=None if args.no_noise else args.noise_snr, progress=not args.quiet,
    )
    folder = result.bundle.save(args.out)
    m = result.metrics
    out = {
        "model": m["model"],
        "out": str(folder),
        "val_uar": m.get("val_uar"),
        "test_uar": m.get("test_uar"),
        "split": m["split"],
        "labels": result.bundle.labels,
        "feature_seconds": m["feature_seconds"],
        "train_seconds": m["train_seconds"],
    }
    for k in ("best_epoch", "epochs_run"):
        if k in m:
            out[k] = m[k]
    for part in ("val", "test"):
        if part in m:
            rep = m[part]
            out[part] = rep if args.full else {k: rep[k] for k in ("uar", "accuracy", "macro_f1") if k in rep}
    emit(out)
    return 0
