"""Training cost and accuracy: the default deep model vs the SVM baseline, and prediction latency.

For each model (``svm`` = utterance functionals + RBF SVM, the baseline; and
the book's default deep model, :data:`sertools.training.DEFAULT_MODEL`) this
runs :func:`sertools.training.train` exactly as ``sertools train`` does, on the
same speaker-independent split (``speaker_split`` seed 0: whole speakers,
25 % test, 15 % validation), and measures

- ``train_seconds``: wall time of the whole ``train`` call (feature extraction
  included, from an empty feature cache in full mode), and its CPU seconds;
- ``peak_rss_mb``: the peak resident memory of the process that trained (each
  training runs in a fresh child process pinned to at most 2 CPU cores, and
  the peak is read with ``resource.getrusage(RUSAGE_CHILDREN)``);
- ``test_uar`` / ``val_uar``: speaker-independent unweighted average recall;
- ``latency_ms``: median time of ``ModelBundle.predict_proba`` on a 3-second
  clip once the model is loaded (feature extraction included).

``gap_points`` is ``100 * (deep test UAR - SVM test UAR)``; the issue asks for
at least 5 points. ``realtime_factor`` is the clip length divided by the
latency.

Usage: ``python benchmarks/bench_training.py [--quick]`` (quick: the "small"
preset, 2 epochs and no noisy copies, in-process, for the book's appendix; full: the "default"
preset with the default epochs).

Notebook: ``book/07_training_without_leaks.ipynb``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _train_and_measure(
    model: str, preset: str, epochs: int | None, out: str | None, quick: bool = False
) -> dict[str, Any]:
    """Train one model (in this process); return metrics, timings and latency."""
    import numpy as np

    from sertools import datasets, training
    from sertools.audio import load

    folder = datasets.preset(preset, progress=False)
    c0, t0 = os.times(), time.perf_counter()
    extra = {"noise_snr_db": None} if quick else {}  # quick: no noisy training copies
    res = training.train(folder, model=model, epochs=epochs, seed=0, progress=False, **extra)
    wall = time.perf_counter() - t0
    c1 = os.times()
    bundle = res.bundle
    if out:
        bundle.save(out)
    y, sr = load(datasets.read_manifest(folder)["path"].iloc[0], sr=bundle.sr)
    y3 = np.resize(y, 3 * sr)  # exactly 3 s (the clip repeated)
    bundle.predict_proba(y3, sr)  # warm-up: traces the model once
    times = []
    for _ in range(20):
        t = time.perf_counter()
        bundle.predict_proba(y3, sr)
        times.append(time.perf_counter() - t)
    m = res.metrics
    return {
        "model": model,
        "val_uar": m["val_uar"],
        "test_uar": m["test_uar"],
        "train_seconds": round(wall, 1),
        "train_cpu_seconds": round(c1.user + c1.system - c0.user - c0.system, 1),
        "feature_seconds": m["feature_seconds"],
        "epochs_run": m.get("epochs_run"),
        "best_epoch": m.get("best_epoch"),
        "latency_ms": round(1000 * float(np.median(times)), 2),
        "test_speakers": m["split"]["test_speakers"],
        "n_train": m["split"]["n_train"],
        "n_test": m["split"]["n_test"],
    }


def _child(model: str, preset: str, epochs: int | None, cores: int) -> dict[str, Any]:
    """Run one training in a fresh process limited to ``cores`` CPUs; add its peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cache = Path(tmp) / "cache"
        env = dict(os.environ)
        if "SERTOOLS_CACHE" in env:  # share the corpus, but not the cached features (timed from scratch)
            src = Path(env["SERTOOLS_CACHE"])
            cache.mkdir()
            for p in src.glob("synth-*"):
                (cache / p.name).symlink_to(p.resolve())
            env["SERTOOLS_CACHE"] = str(cache)
        here = str(Path(__file__).parent)
        code = (
            f"import json, os, sys; sys.path.insert(0, {here!r});"
            f"os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:{cores}]) if hasattr(os, 'sched_setaffinity') else None;"
            "import bench_training as b;"
            f"r = b._train_and_measure({model!r}, {preset!r}, {epochs!r}, None);"
            f"open({str(out)!r}, 'w').write(json.dumps(r))"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = json.loads(out.read_text())
    r["peak_rss_mb"] = round(max(peak, before) / 1024, 0)
    return r


def run(quick: bool = False) -> dict[str, Any]:
    """Train the SVM baseline and the default deep model; return measurements and ratios.

    ``quick``: small preset, 3 epochs, in this process (peak memory is then the
    whole process's peak so far, an upper bound).
    """
    from sertools.training import DEFAULT_MODEL

    preset = "small" if quick else "default"
    rows = {}
    for model in ("svm", DEFAULT_MODEL):
        epochs = 2 if (quick and model != "svm") else None
        if quick:
            r = _train_and_measure(model, preset, epochs, None, quick=True)
            r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
        else:
            r = _child(model, preset, epochs, cores=2)
        rows[model] = r
    deep, svm = rows[DEFAULT_MODEL], rows["svm"]
    return {
        "note": ("quick mode: small preset (8 speakers) and 2 epochs, a timing smoke test; the deep model "
                 "is not trained to convergence, so only the full run compares accuracies") if quick else
                ("full run: default preset, default training, each model in a fresh process on 2 CPU cores"),
        "preset": preset,
        "split": "speaker_split seed 0 (whole speakers; 25% test, 15% validation)",
        "test_speakers": deep["test_speakers"],
        "svm": svm,
        "deep": deep,
        "deep_model": DEFAULT_MODEL,
        "gap_points": round(100 * (deep["test_uar"] - svm["test_uar"]), 1),
        "train_time_ratio_deep_svm": round(deep["train_seconds"] / max(svm["train_seconds"], 1e-9), 1),
        "realtime_factor": round(3000.0 / max(deep["latency_ms"], 1e-9), 1),
    }


def _print_table(r: dict[str, Any]) -> None:
    print(r["note"])
    cols = ["val_uar", "test_uar", "train_seconds", "train_cpu_seconds", "feature_seconds",
            "epochs_run", "peak_rss_mb", "latency_ms"]
    print(f"preset {r['preset']!r}, split: {r['split']}; test speakers {r['test_speakers']}")
    print(f"{'':22s}" + "".join(f"{c:>18s}" for c in cols))
    for name in ("svm", "deep"):
        row = r[name]
        label = f"{row['model']} ({'baseline' if name == 'svm' else 'deep'})"
        print(f"{label:22s}" + "".join(
            f"{(row[c] if row[c] is not None else '-'):>18}" if not isinstance(row[c], float)
            else f"{row[c]:>18.3f}" for c in cols))
    print(f"deep - SVM test UAR: {r['gap_points']:+.1f} points (target >= +5)")
    print(f"training time deep / SVM: {r['train_time_ratio_deep_svm']}x; "
          f"prediction {r['deep']['latency_ms']:.1f} ms per 3-s clip = {r['realtime_factor']}x real time")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small preset, 2 epochs (seconds)")
    args = ap.parse_args()
    _print_table(run(quick=args.quick))
