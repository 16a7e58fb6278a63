"""Synthesiser speed (x real time on one core) and how hard the synthetic corpus is.

Speed: :func:`sertools.synth.synthesize` makes clips for every emotion and
alternating speakers, one process, one thread; ``x_realtime_cpu`` is seconds of
audio per second of this process's CPU time (fair on a busy machine) and
``x_realtime_wall`` per second of wall-clock time. The same clips are made a
second time with the public ``scipy.signal.sosfilt`` in the time-varying
formant filter instead of scipy's compiled kernel called directly, to show what
that choice buys (``ratio_kernel_vs_public``: > 1 means the kernel is faster).
The issue's target is >= 100x real time.

Difficulty (full run only): the "default" preset (24 speakers x 8 emotions x
8 clips), per-utterance MFCC mean and standard deviation (20 MFCCs with
:func:`sertools.features.mfcc`'s librosa defaults: n_fft 2048, hop 512), an
RBF SVM on standardised features (:func:`sertools.baselines.fit_baseline`,
C and gamma chosen by speaker-grouped CV on the training speakers), tested on
held-out speakers (:func:`sertools.training.speaker_split`, 25 % of the
speakers, gender-balanced) for four split seeds; UAR from
:func:`sertools.evaluation.report`. The issue asks for 0.55-0.85.

Usage: ``python benchmarks/bench_synth.py [--quick]`` (quick: 24 clips, speed only).

Notebook: ``book/02_data.ipynb``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SR = 16000


def _time_synth(n_clips: int, use_kernel: bool = True) -> dict:
    from sertools import synth

    saved = synth._sosfilt_kernel
    if not use_kernel:
        synth._sosfilt_kernel = None
    try:
        synth.synthesize(0, "neutral", 0, sr=SR)  # warm-up (imports, caches)
        audio = 0.0
        c0, w0 = time.process_time(), time.perf_counter()
        for i in range(n_clips):
            emo = synth.EMOTIONS[i % len(synth.EMOTIONS)]
            y = synth.synthesize(i % 8, emo, i // 8, sr=SR)
            audio += len(y) / SR
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        synth._sosfilt_kernel = saved
    return {"audio_seconds": audio, "cpu_seconds": cpu, "wall_seconds": wall,
            "x_realtime_cpu": audio / cpu, "x_realtime_wall": audio / wall}


def measure_uar(preset: str = "default", seeds: tuple[int, ...] = (0, 1, 2, 3)) -> dict:
    """UAR of the MFCC mean+std RBF-SVM baseline on held-out speakers of a preset.

    Returns
    -------
    dict
        ``uar`` per split seed, ``uar_mean``, ``n_train_speakers``,
        ``n_test_speakers``, ``n_clips``, ``feature_seconds``.

    Notebook: ``book/02_data.ipynb``.
    """
    from tqdm.auto import tqdm

    from sertools import audio, baselines, datasets, evaluation, features, training

    df = datasets.read_manifest(datasets.preset(preset))
    t0 = time.perf_counter()
    X = []
    for p in tqdm(df.path, desc="MFCC mean+std", leave=False):
        y, _ = audio.load(p, sr=SR)
        m = features.mfcc(y, sr=SR, n_mfcc=20)
        X.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
    X = np.asarray(X)
    feat_s = time.perf_counter() - t0
    labels = df.emotion.to_numpy()
    uars = []
    for seed in seeds:
        split = training.speaker_split(df, test_fraction=0.25, val_fraction=0.0, seed=seed)
        tr, te = split == "train", split == "test"
        model = baselines.fit_baseline(X[tr], labels[tr], df.speaker.to_numpy()[tr], kind="svm", seed=0)
        uars.append(float(evaluation.report(labels[te], model.predict(X[te]))["uar"]))
    return {
        "preset": preset,
        "n_clips": len(df),
        "n_train_speakers": int(df.speaker[tr].nunique()),
        "n_test_speakers": int(df.speaker[te].nunique()),
        "uar": uars,
        "uar_mean": float(np.mean(uars)),
        "feature_seconds": feat_s,
    }


def run(quick: bool = False) -> dict:
    """Measure the synthesiser's speed (and, in a full run, the corpus difficulty).

    Parameters
    ----------
    quick : bool, default False
        24 clips and speed only (the book's appendix); full: 96 clips + :func:`measure_uar`.

    Returns
    -------
    dict
        ``n_clips``, ``kernel`` and ``public_sosfilt`` timings (``audio_seconds``,
        ``cpu_seconds``, ``wall_seconds``, ``x_realtime_cpu``, ``x_realtime_wall``),
        ``ratio_kernel_vs_public``, ``target_x_realtime`` (100),
        ``ratio_to_target``, and ``difficulty`` (full run only).
    """
    n = 24 if quick else 96
    fast = _time_synth(n, use_kernel=True)
    public = _time_synth(n, use_kernel=False)
    out = {
        "n_clips": n,
        "kernel": fast,
        "public_sosfilt": public,
        "ratio_kernel_vs_public": public["cpu_seconds"] / fast["cpu_seconds"],
        "target_x_realtime": 100.0,
        "ratio_to_target": fast["x_realtime_cpu"] / 100.0,
    }
    if not quick:
        out["difficulty"] = measure_uar("default")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="24 clips, speed only")
    args = ap.parse_args()
    r = run(quick=args.quick)
    print(f"Synthesis of {r['n_clips']} clips ({r['kernel']['audio_seconds']:.1f} s of audio, {SR} Hz, one process)")
    print(f"{'formant filter':<28}{'CPU s':>8}{'wall s':>8}{'x RT (CPU)':>12}{'x RT (wall)':>13}")
    for name, key in (("scipy compiled kernel", "kernel"), ("public signal.sosfilt", "public_sosfilt")):
        t = r[key]
        print(f"{name:<28}{t['cpu_seconds']:>8.2f}{t['wall_seconds']:>8.2f}{t['x_realtime_cpu']:>12.0f}{t['x_realtime_wall']:>13.0f}")
    print(f"kernel vs public sosfilt: {r['ratio_kernel_vs_public']:.2f}x faster")
    print(f"speed / target (100x real time): {r['ratio_to_target']:.2f}")
    if "difficulty" in r:
        d = r["difficulty"]
        print(
            f"\nDifficulty ({d['preset']} preset, {d['n_clips']} clips, {d['n_train_speakers']} train / "
            f"{d['n_test_speakers']} test speakers): MFCC mean+std + RBF SVM"
        )
        print("UAR per split seed: " + ", ".join(f"{u:.3f}" for u in d["uar"]) + f"; mean {d['uar_mean']:.3f} (chance 0.125)")


if __name__ == "__main__":
    main()
