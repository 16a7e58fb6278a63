"""Real-time factor of streaming emotion recognition on CPU.

A functionals + SVM model (the fast model of the Applications chapter,
trained on 2-second windows of the "small" synthetic corpus) classifies a
long synthetic conversation (unseen speakers, pauses) with
:func:`sertools.stream.stream`, fed in 100 ms blocks the way a microphone
callback would feed it. The windows are 2 s long; the hop is 0.5 s (the
target setting) and, side by side, 0.25 s and 1.0 s.

Reported per hop:

- ``rtf_wall``: wall-clock compute time / audio duration (real-time factor;
  the target is below 0.05 at 2 s / 0.5 s: 1 minute of audio in under 3 s);
- ``rtf_cpu``: the same with the process's CPU time, which does not count
  time lost to other processes on a shared machine;
- ``window_ms_median`` / ``window_ms_p95``: compute time per classified
  window (part of the latency: see the Applications chapter);
- ``ratio_to_target``: ``rtf_wall / 0.05`` (below 1 meets the target).

Every hop is timed ``repeats`` times, interleaved, and the median run is kept.

Usage: ``python benchmarks/bench_stream.py [--quick]`` (quick: a ~35 s
conversation, a model trained on fewer windows, one run per hop; full: ~3 minutes of conversation, 3 runs).

Notebook: ``book/10_applications.ipynb``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SR = 16000
WINDOW = 2.0
HOPS = (0.25, 0.5, 1.0)
TARGET_RTF = 0.05
EMOTIONS = ("neutral", "happy", "sad", "angry")


def _model(train_hop: float = 1.0):
    """SVM on functionals of 2 s windows of the small corpus (4 emotions), as a ModelBundle."""
    from sertools.baselines import fit_baseline
    from sertools.bundle import ModelBundle
    from sertools.datasets import preset, read_manifest
    from sertools.stream import window_features
    from sertools.training import FeatureConfig

    df = read_manifest(preset("small", progress=False), check_audio=False)
    df = df[df["emotion"].isin(EMOTIONS)].reset_index(drop=True)
    config = FeatureConfig(kind="functionals")
    feats, rows = window_features(df, config, window=WINDOW, hop=train_hop, progress=False)
    est = fit_baseline(np.stack(feats), rows["emotion"].to_numpy(), rows["speaker"].to_numpy(),
                       kind="svm", probability=True)
    return ModelBundle(est, [str(c) for c in est.classes_], config, None, kind="svm")


def _time_stream(bundle, y: np.ndarray, hop: float) -> dict:
    from sertools.stream import chunked, stream

    per_window: list[float] = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    last = wall0
    n = voiced = 0
    for w in stream(bundle, chunked(y, SR // 10), SR, WINDOW, hop):
        now = time.perf_counter()
        if w["emotion"] is not None:
            per_window.append(now - last)
        voiced += bool(w["voiced"])
        n += 1
        last = now
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    dur = y.size / SR
    return {"hop": hop, "windows": n, "voiced_windows": voiced, "wall_s": wall, "cpu_s": cpu,
            "rtf_wall": wall / dur, "rtf_cpu": cpu / dur,
            "window_ms_median": 1000 * float(np.median(per_window)) if per_window else float("nan"),
            "window_ms_p95": 1000 * float(np.percentile(per_window, 95)) if per_window else float("nan")}


def run(quick: bool = False, repeats: int | None = None) -> dict:
    """Measure the real-time factor of :func:`sertools.stream.stream`; return the numbers.

    Parameters
    ----------
    quick : bool
        A ~35 s conversation and one run per hop (for the book build) instead
        of ~3 minutes and 3 runs.
    repeats : int, optional
        Runs per hop (the median is kept).

    Returns
    -------
    dict
        ``audio_seconds``, ``window``, ``results`` (one dict per hop, see the
        module docstring), ``rtf_wall`` / ``rtf_cpu`` / ``ratio_to_target`` at
        the 0.5 s hop, ``target_rtf``, ``meets_target``.
    """
    from sertools.stream import synthetic_conversation

    repeats = repeats or (1 if quick else 3)
    bundle = _model(train_hop=2.0 if quick else 1.0)
    y, _ = synthetic_conversation(n_turns=5 if quick else 24, emotions=EMOTIONS, seed=11, sr=SR)
    bundle.predict_proba(y[: 2 * SR], SR)  # warm-up (imports, caches)
    runs: dict[float, list[dict]] = {h: [] for h in HOPS}
    for _ in range(repeats):
        for hop in HOPS:
            runs[hop].append(_time_stream(bundle, y, hop))
    results = [sorted(r, key=lambda d: d["wall_s"])[len(r) // 2] for r in runs.values()]
    main = next(r for r in results if r["hop"] == 0.5)
    return {
        "audio_seconds": y.size / SR,
        "window": WINDOW,
        "block_seconds": 0.1,
        "repeats": repeats,
        "model": "functionals + SVM (4 emotions)",
        "results": results,
        "rtf_wall": main["rtf_wall"],
        "rtf_cpu": main["rtf_cpu"],
        "ratio_to_target": main["rtf_wall"] / TARGET_RTF,
        "target_rtf": TARGET_RTF,
        "meets_target": bool(main["rtf_wall"] < TARGET_RTF),
    }


def _print(res: dict) -> None:
    print(f"Streaming {res['audio_seconds']:.1f} s of conversation, {res['window']:.1f} s windows, "
          f"{res['block_seconds']:.1f} s input blocks, model: {res['model']}, median of {res['repeats']} run(s)")
    print(f"{'hop s':>6}{'windows':>9}{'voiced':>8}{'wall s':>9}{'cpu s':>8}{'RTF wall':>10}{'RTF cpu':>9}"
          f"{'ms/window':>11}{'p95 ms':>8}{'RTF / target':>14}")
    for r in res["results"]:
        print(f"{r['hop']:>6.2f}{r['windows']:>9d}{r['voiced_windows']:>8d}{r['wall_s']:>9.2f}{r['cpu_s']:>8.2f}"
              f"{r['rtf_wall']:>10.4f}{r['rtf_cpu']:>9.4f}{r['window_ms_median']:>11.1f}{r['window_ms_p95']:>8.1f}"
              f"{r['rtf_wall'] / res['target_rtf']:>14.2f}")
    verdict = "meets" if res["meets_target"] else "MISSES"
    print(f"real-time factor at 2 s / 0.5 s: {res['rtf_wall']:.4f} wall, {res['rtf_cpu']:.4f} CPU "
          f"-> {verdict} the target < {res['target_rtf']} (ratio {res['ratio_to_target']:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short conversation, one run per hop")
    parser.add_argument("--repeats", type=int, default=None, help="runs per hop (median kept)")
    args = parser.parse_args()
    _print(run(quick=args.quick, repeats=args.repeats))
