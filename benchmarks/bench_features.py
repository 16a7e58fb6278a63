"""MFCC speed: sertools vs librosa vs python_speech_features on the synthetic corpus.

All three compute 13 MFCCs from 40 mel bands with 25 ms Hann windows
(400 samples, FFT size 512) every 10 ms at 16 kHz, 0-8000 Hz, HTK mel scale,
no pre-emphasis, no liftering, over every clip of the corpus (float32 audio as
loaded by :func:`sertools.audio.load`). The three run interleaved, one whole
pass over the corpus each, ``repeats`` times; the reported time is the median
pass, under two BLAS thread settings (see :func:`run`). ``ratio_sertools_librosa`` is sertools' time divided by librosa's:
below 1 means sertools is faster. ``x_realtime`` is seconds of audio per second
of compute.

python_speech_features differs in its conventions (natural log instead of dB,
no centring, a symmetric window), so only its speed is comparable; sertools
and librosa agree numerically, which the run checks on every clip.

Usage: ``python benchmarks/bench_features.py [--quick] [--repeats N]`` (quick:
the "small" preset, 3 repeats, one BLAS setting; full: the "default" preset,
5 repeats, both settings).

Notebook: ``book/04_mfcc.ipynb``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

SR = 16000
PARAMS = dict(n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=40, fmin=0.0, fmax=8000.0, htk=True)


def _load_corpus(quick: bool) -> list[np.ndarray]:
    from tqdm.auto import tqdm

    from sertools.audio import load
    from sertools.datasets import preset, read_manifest

    df = read_manifest(preset("small" if quick else "default", progress=False), check_audio=False)
    return [load(p, sr=SR)[0] for p in tqdm(df.path, desc="loading clips", disable=quick, leave=False)]


def _engines() -> dict:
    import librosa
    import python_speech_features as psf

    from sertools import features

    def run_sertools(clips):
        return [features.mfcc(y, sr=SR, **PARAMS) for y in clips]

    def run_librosa(clips):
        return [librosa.feature.mfcc(y=y, sr=SR, **PARAMS) for y in clips]

    def run_psf(clips):
        return [
            psf.mfcc(y, samplerate=SR, winlen=0.025, winstep=0.01, numcep=13, nfilt=40, nfft=512,
                     lowfreq=0, highfreq=8000, preemph=0.0, ceplifter=0, appendEnergy=False,
                     winfunc=np.hanning)
            for y in clips
        ]

    return {"sertools": run_sertools, "librosa": run_librosa, "python_speech_features": run_psf}


def _time_engines(engines: dict, clips: list[np.ndarray], repeats: int) -> tuple[dict, dict]:
    """Interleaved passes: per engine the list of pass times, and its last outputs."""
    outs = {name: fn(clips[:3]) for name, fn in engines.items()}  # warm-up (imports, caches)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeats):
        for name, fn in engines.items():  # interleaved: load drifts hit all engines alike
            t0 = time.perf_counter()
            outs[name] = fn(clips)
            times[name].append(time.perf_counter() - t0)
    return times, outs


def run(quick: bool = False, repeats: int | None = None) -> dict:
    """Time the three MFCC implementations over the corpus and return the numbers.

    Two BLAS settings: ``one_blas_thread`` (every engine limited to one BLAS
    thread with threadpoolctl: the fair, stable comparison, also the only one in
    quick mode) and, in full mode, ``default_blas_threads`` (as a user would
    run them; sertools limits its own small matrix products to one thread, librosa
    does not). The headline ratio is the larger (less favourable to sertools).

    Parameters
    ----------
    quick : bool, default False
        "small" corpus preset, 3 repeats, one BLAS setting (the book's appendix).
    repeats : int, optional
        Passes over the corpus per engine (default 3 quick, 5 full).

    Returns
    -------
    dict
        ``corpus``, ``n_clips``, ``audio_seconds``, ``repeats``, ``params``;
        ``settings``: per BLAS setting, per engine ``seconds`` (median pass),
        ``min_seconds``, ``x_realtime``, plus ``ratio_sertools_librosa`` and
        ``ratio_sertools_psf``; top level ``ratio_sertools_librosa`` and
        ``ratio_sertools_psf`` (the largest over settings) and
        ``max_abs_diff_vs_librosa`` (MFCC units, over every clip).

    Notebook: ``book/04_mfcc.ipynb``.
    """
    from threadpoolctl import threadpool_limits

    clips = _load_corpus(quick)
    repeats = repeats or (3 if quick else 5)
    engines = _engines()
    audio_seconds = sum(len(y) for y in clips) / SR
    settings = {"one_blas_thread": 1} if quick else {"default_blas_threads": None, "one_blas_thread": 1}
    res: dict = {"corpus": "small" if quick else "default", "n_clips": len(clips), "audio_seconds": audio_seconds,
                 "repeats": repeats, "params": dict(PARAMS, sr=SR), "settings": {}}
    diff = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for setting, limit in settings.items():
            with threadpool_limits(limits=limit, user_api="blas"):
                times, outs = _time_engines(engines, clips, repeats)
            diff = max(diff, max(float(np.max(np.abs(a - b)))
                                 for a, b in zip(outs["sertools"], outs["librosa"], strict=True)))
            med = {name: float(np.median(t)) for name, t in times.items()}
            res["settings"][setting] = {
                "engines": {name: {"seconds": med[name], "min_seconds": float(np.min(times[name])),
                                   "x_realtime": audio_seconds / med[name]} for name in engines},
                "ratio_sertools_librosa": med["sertools"] / med["librosa"],
                "ratio_sertools_psf": med["sertools"] / med["python_speech_features"],
            }
    res["ratio_sertools_librosa"] = max(s["ratio_sertools_librosa"] for s in res["settings"].values())
    res["ratio_sertools_psf"] = max(s["ratio_sertools_psf"] for s in res["settings"].values())
    res["max_abs_diff_vs_librosa"] = diff
    return res


def _print(res: dict) -> None:
    print(f"MFCC over the {res['corpus']!r} corpus: {res['n_clips']} clips, {res['audio_seconds']:.1f} s of audio, "
          f"median of {res['repeats']} interleaved passes")
    print(f"parameters: {res['params']}")
    for setting, r in res["settings"].items():
        print(f"\n[{setting.replace('_', ' ')}]")
        print(f"{'engine':<24}{'median s':>10}{'min s':>10}{'x real-time':>14}{'time / sertools':>17}")
        base = r["engines"]["sertools"]["seconds"]
        for name, e in r["engines"].items():
            print(f"{name:<24}{e['seconds']:>10.3f}{e['min_seconds']:>10.3f}{e['x_realtime']:>14.0f}"
                  f"{e['seconds'] / base:>17.2f}")
        print(f"ratio sertools / librosa: {r['ratio_sertools_librosa']:.3f}   "
              f"sertools / python_speech_features: {r['ratio_sertools_psf']:.3f}")
    print(f"\nheadline (worst setting) ratio sertools / librosa: {res['ratio_sertools_librosa']:.3f}  (target <= 1.0)")
    print(f"max |sertools - librosa| over all MFCCs: {res['max_abs_diff_vs_librosa']:.2e}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus preset, 3 repeats, one BLAS setting")
    parser.add_argument("--repeats", type=int, default=None, help="passes per engine")
    args = parser.parse_args()
    _print(run(quick=args.quick, repeats=args.repeats))
