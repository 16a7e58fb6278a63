"""A source-filter synthesiser of emotional speech-like utterances.

No real emotional-speech corpus can be downloaded where the book is built, so
the book generates its own. Each clip is made the way the source-filter model
of speech production says speech is made:

1. a **glottal source**: a KLGLOTT88 pulse train (flow ``Ug = a t^2 - b t^3``
   over the open phase) whose F0 follows a contour with declination, pitch
   accents and a final fall or rise, plus Klatt's flutter, cycle-to-cycle
   jitter and shimmer, aspiration noise modulated by the glottal flow and a
   spectral tilt filter (KLSYN88's TL, dB of attenuation at 3 kHz);
2. a **vocal-tract filter**: five cascaded formant resonators (Klatt 1980)
   whose frequencies move from one vowel or consonant target to the next
   (formant transitions), scaled per speaker (vocal-tract length);
3. **noise consonants** (fricatives, plosive bursts) added after the tract;
4. **recording variation**: level, a speaker-specific channel colouring and
   background noise at a random signal-to-noise ratio.

Utterances are sequences of syllables (onset consonant + vowel + optional
coda) from one of a few fixed "sentences" (like RAVDESS's two statements, the
words do not depend on the emotion). Emotions change F0 level and range,
tempo, pauses, intensity and voice quality with the rules of
:data:`EMOTION_RULES` (values from ``shared/docs/synth-reference.md``: MARY
TTS's emotion rules, Schroeder 2006; Burkhardt's Emofilt, Burkhardt & Sendlmeier
2000; Murray & Arnott 1993; Juslin & Laukka 2003), applied with a random
strength per speaker and per utterance so that classes overlap like in an
acted corpus. Speakers (Hillenbrand et al. 1995 F0 and formants; Klatt 1980
bandwidths) differ in F0, vocal-tract length, voice quality and speaking rate.

Real speakers also differ in *how* they act each emotion (one speaker's anger
is loud and fast, another's tense and slow). The ``style`` argument of
:func:`synthesize` and :func:`write_corpus` adds such a fixed, personal way of
expressing each emotion (default 0: everybody follows the same rules, the
presets' setting); the chapter "Training without leaks" uses it to show why a
random clip split overstates what a model does for a new speaker.

Every random draw comes from ``np.random.default_rng([seed, tag, speaker,
emotion, utterance])``, so a clip depends only on (corpus seed, speaker,
emotion, utterance index) and a larger corpus contains a smaller one byte for
byte.

Notebook: ``book/02_data.ipynb`` (chapter "Speech and emotion: the data").
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from sertools.datasets import EMOTIONS
from sertools.errors import DataError

__all__ = [
    "EMOTION_RULES",
    "GENERATOR_VERSION",
    "VOWELS",
    "EmotionRule",
    "Speaker",
    "expression_style",
    "formant_response",
    "glottal_flow",
    "make_speaker",
    "synthesize",
    "tilt_coefficient",
    "write_corpus",
]

#: Version of the generator. Bump it whenever the audio a given seed produces changes,
#: so cached corpora made by an older generator are not reused.
GENERATOR_VERSION = "2"

#: Vowel formants F1/F2/F3 in Hz of men and women (Hillenbrand et al. 1995), by ARPAbet-like name.
VOWELS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "i": ((342, 2322, 3000), (437, 2761, 3372)),
    "I": ((427, 2034, 2684), (483, 2365, 3053)),
    "E": ((580, 1799, 2605), (731, 2058, 2979)),
    "ae": ((588, 1952, 2601), (669, 2349, 2972)),
    "a": ((768, 1333, 2522), (936, 1551, 2815)),
    "o": ((497, 910, 2459), (555, 1035, 2828)),
    "u": ((378, 997, 2343), (459, 1105, 2735)),
    "V": ((623, 1200, 2550), (753, 1426, 2933)),
}

#: Neutral vowel (schwa) F1/F2/F3 of men and women, the centre of the vowel space.
_SCHWA = ((500.0, 1500.0, 2500.0), (580.0, 1750.0, 2900.0))

#: Klatt (1980) default formant bandwidths B1..B5 in Hz.
KLATT_BANDWIDTHS = (50.0, 70.0, 110.0, 250.0, 200.0)

# Consonants: (kind, duration s, voicing amp, aspiration amp, frication band, frication amp,
# formant targets of a male tract or None to take the next vowel's).
# Frication bands (Hz): s 4000-7500, sh 2000-6000, f 1000-7000, bursts p/t/k.
_FRIC_BANDS: dict[str, tuple[float, float]] = {
    "s": (4000.0, 7500.0),
    "sh": (2000.0, 6000.0),
    "f": (1000.0, 7000.0),
    "bp": (400.0, 1600.0),
    "bt": (3000.0, 6500.0),
    "bk": (1500.0, 3200.0),
}
_BAND_NAMES = tuple(_FRIC_BANDS)


@dataclass(frozen=True)
class _Seg:
    dur: float
    voice: float = 0.0
    asp: float = 0.0
    band: str = ""
    fric: float = 0.0
    formants: tuple[float, float, float] | None = None
    syllable: int = -1
    nucleus: bool = False


_CONSONANTS: dict[str, list[_Seg]] = {
    "": [],
    "s": [_Seg(0.10, band="s", fric=0.5)],
    "z": [_Seg(0.08, voice=0.25, band="s", fric=0.25, formants=(300, 1500, 2500))],
    "sh": [_Seg(0.10, band="sh", fric=0.45)],
    "f": [_Seg(0.09, band="f", fric=0.12)],
    "v": [_Seg(0.07, voice=0.3, band="f", fric=0.08, formants=(300, 1200, 2300))],
    "h": [_Seg(0.07, asp=0.35)],
    "p": [_Seg(0.06), _Seg(0.012, band="bp", fric=0.6), _Seg(0.04, asp=0.3)],
    "t": [_Seg(0.055), _Seg(0.012, band="bt", fric=0.6), _Seg(0.04, asp=0.3)],
    "k": [_Seg(0.06), _Seg(0.015, band="bk", fric=0.6), _Seg(0.045, asp=0.3)],
    "b": [_Seg(0.05, voice=0.08, formants=(200, 900, 2200)), _Seg(0.01, band="bp", fric=0.3)],
    "d": [_Seg(0.045, voice=0.08, formants=(200, 1700, 2600)), _Seg(0.01, band="bt", fric=0.3)],
    "m": [_Seg(0.07, voice=0.3, formants=(250, 1000, 2200))],
    "n": [_Seg(0.065, voice=0.3, formants=(250, 1600, 2500))],
    "l": [_Seg(0.06, voice=0.55, formants=(360, 1300, 2700))],
    "w": [_Seg(0.06, voice=0.5, formants=(300, 700, 2200))],
    "r": [_Seg(0.06, voice=0.5, formants=(400, 1100, 1600))],
}
_ONSETS = ("", "s", "z", "sh", "f", "v", "h", "p", "t", "k", "b", "d", "m", "n", "l", "w", "r")
_CODAS = ("", "", "", "n", "s", "t", "m", "k", "l")


@dataclass(frozen=True)
class EmotionRule:
    """How one emotion changes a speaker's neutral speech (the synthesiser's rule table).

    Factors are relative to the same speaker's neutral speech; deltas are added.

    Attributes
    ----------
    f0_mean, f0_range : float
        Factors on mean F0 and on the F0 range (pitch-accent height, declination).
    tempo : float
        Factor on the speaking rate (syllables per second); > 1 is faster.
    intensity_db : float
        Level change in dB.
    open_quotient : float
        Added to the open quotient of the glottal pulse (0.5 modal; higher is
        breathier/laxer, lower is tenser).
    tilt_db : float
        Added to the spectral tilt (dB of attenuation at 3 kHz).
    jitter, shimmer, aspiration, bandwidth : float
        Factors on cycle jitter, shimmer, aspiration noise and formant bandwidths.
    pause : float
        Factor on the probability and length of phrase pauses.
    accent : float
        Probability that a syllable carries a pitch accent.
    final_rise : float
        Probability that the utterance ends in a rise instead of a fall.
    articulation : float
        Vowel-space scaling around the neutral vowel (schwa): < 1 slurred,
        centralised vowels; > 1 precise, expanded vowels (Murray & Arnott 1993's
        "articulation" row: slurring in sadness, precise in fear, tense in anger).
    source : str
        Where the values come from.

    Notebook: ``book/02_data.ipynb``.
    """

    f0_mean: float = 1.0
    f0_range: float = 1.0
    tempo: float = 1.0
    intensity_db: float = 0.0
    open_quotient: float = 0.0
    tilt_db: float = 0.0
    jitter: float = 1.0
    shimmer: float = 1.0
    aspiration: float = 1.0
    bandwidth: float = 1.0
    pause: float = 1.0
    accent: float = 0.3
    final_rise: float = 0.1
    articulation: float = 1.0
    source: str = ""


#: The rules per emotion. Values follow ``shared/docs/synth-reference.md`` (relative to neutral).
EMOTION_RULES: dict[str, EmotionRule] = {
    "neutral": EmotionRule(source="reference point"),
    "calm": EmotionRule(
        f0_mean=0.94, f0_range=0.8, tempo=0.9, intensity_db=-3.0, open_quotient=0.06,
        tilt_db=5.0, aspiration=1.6, bandwidth=1.1, pause=1.2, accent=0.25, final_rise=0.05,
        articulation=0.85,
        source="MARY TTS relaxed: F0 -6 %, range 3.2 vs 4 st, rate -10 % (Schroeder 2006)",
    ),
    "happy": EmotionRule(
        f0_mean=1.25, f0_range=1.6, tempo=1.15, intensity_db=4.0, open_quotient=0.04,
        tilt_db=-2.0, aspiration=1.4, pause=0.9, accent=0.5, final_rise=0.35,
        source="F0 +6..+50 %, range up to 2x, rate +10..30 % (Schroeder 2006; Burkhardt & Sendlmeier 2000)",
    ),
    "sad": EmotionRule(
        f0_mean=0.84, f0_range=0.6, tempo=0.72, intensity_db=-6.0, open_quotient=0.10,
        tilt_db=10.0, jitter=2.0, shimmer=1.5, aspiration=1.5, bandwidth=1.2, pause=1.5,
        accent=0.15, final_rise=0.0, articulation=0.7,
        source="F0 -15..-18 %, range 0.4-0.8x, durations +40 %, jitter (Burkhardt & Sendlmeier 2000; Juslin & Laukka 2003)",
    ),
    "angry": EmotionRule(
        f0_mean=1.45, f0_range=1.9, tempo=1.35, intensity_db=6.0, open_quotient=-0.12,
        tilt_db=-7.0, jitter=1.5, shimmer=1.2, aspiration=0.7, bandwidth=0.8, pause=0.7,
        accent=0.55, final_rise=0.05, articulation=1.15,
        source="hot anger: F0 150 %, range 200 %, durations 70 %, tense voice, +6 dB (Burkhardt & Sendlmeier 2000; Murray & Arnott 1993)",
    ),
    "fearful": EmotionRule(
        f0_mean=1.5, f0_range=1.6, tempo=1.3, intensity_db=0.0, open_quotient=0.12,
        tilt_db=5.0, jitter=3.0, shimmer=1.8, aspiration=1.5, pause=2.1, accent=0.35,
        final_rise=0.6, articulation=1.1,
        source="F0 +18..+100 %, range 1.6x, rate +30 %, pauses 210 %, jitter, final rise (Burkhardt & Sendlmeier 2000; Murray & Arnott 1993)",
    ),
    "disgust": EmotionRule(
        f0_mean=0.9, f0_range=1.15, tempo=0.75, intensity_db=-2.0, open_quotient=-0.05,
        tilt_db=0.0, jitter=1.5, shimmer=1.3, pause=1.3, accent=0.3, final_rise=0.05,
        articulation=0.85,
        source="lower F0, slightly wider range, much slower, grumbled chest tone (Murray & Arnott 1993; Schroeder 2006)",
    ),
    "surprised": EmotionRule(
        f0_mean=1.4, f0_range=1.4, tempo=1.2, intensity_db=3.0, open_quotient=0.1,
        tilt_db=4.0, aspiration=2.5, accent=0.4, final_rise=0.8,
        source="F0 +12 % and higher, range 1.4x, rate +20 %, breathy, rising contour (Murray & Arnott 1993; Schroeder 2006)",
    ),
}


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker's baseline (neutral) voice.

    Attributes
    ----------
    index : int
        0-based speaker number in the corpus (even: female, odd: male).
    name : str
        ``"S01"``, ``"S02"``, ...
    gender : str
        ``"female"`` or ``"male"``.
    f0 : float
        Mean F0 of neutral speech in Hz (Hillenbrand et al. 1995: men ~130, women ~220).
    f0_range : float
        Pitch-accent height of neutral speech in semitones (MARY TTS: 4 st).
    vtl_scale : float
        Factor on all formant frequencies (vocal-tract length).
    rate : float
        Neutral speaking rate in syllables per second (3.5-5).
    open_quotient, tilt_db, jitter, shimmer, aspiration : float
        Voice quality: open quotient (0.5 modal), spectral tilt (dB at 3 kHz, ~8 modal),
        cycle jitter and shimmer (fractions), aspiration noise level.
    expressivity : float
        How strongly this speaker acts emotions (factor on every emotion rule's deviation).
    channel : tuple of float
        Recording channel of this speaker: (high-pass cut-off Hz, peak frequency Hz,
        peak gain dB, peak Q, level dB).

    Notebook: ``book/02_data.ipynb``.
    """

    index: int
    name: str
    gender: str
    f0: float
    f0_range: float
    vtl_scale: float
    rate: float
    open_quotient: float
    tilt_db: float
    jitter: float
    shimmer: float
    aspiration: float
    expressivity: float
    channel: tuple[float, float, float, float, float] = field(default=(80.0, 1000.0, 0.0, 1.0, 0.0))


def make_speaker(index: int, seed: int = 0) -> Speaker:
    """The ``index``-th speaker of the corpus made with ``seed`` (even index: female).

    Parameters
    ----------
    index : int
        0-based speaker number.
    seed : int, default 0
        Corpus seed.

    Returns
    -------
    Speaker

    Notebook: ``book/02_data.ipynb``.
    """
    index = _check_int(index, "speaker index")
    seed = _check_int(seed, "seed")
    rng = np.random.default_rng([seed, 1, index])
    female = index % 2 == 0
    f0 = rng.normal(215.0, 22.0) if female else rng.normal(125.0, 15.0)
    channel = (
        float(rng.uniform(50, 160)),
        float(np.exp(rng.uniform(np.log(300), np.log(4000)))),
        float(rng.normal(0.0, 1.5)),
        float(rng.uniform(0.7, 1.5)),
        float(rng.normal(0.0, 1.5)),
    )
    return Speaker(
        index=index,
        name=f"S{index + 1:02d}",
        gender="female" if female else "male",
        f0=float(np.clip(f0, 160, 290) if female else np.clip(f0, 85, 170)),
        f0_range=float(rng.uniform(3.0, 5.0)),
        vtl_scale=float(rng.normal(1.0, 0.05)),
        rate=float(rng.uniform(3.6, 5.0)),
        open_quotient=float(np.clip(rng.normal(0.52 if female else 0.48, 0.03), 0.35, 0.7)),
        tilt_db=float(np.clip(rng.normal(9.0 if female else 7.0, 1.0), 2.0, 16.0)),
        jitter=float(rng.uniform(0.003, 0.008)),
        shimmer=float(rng.uniform(0.01, 0.03)),
        aspiration=float(rng.uniform(0.02, 0.06) * (1.3 if female else 1.0)),
        expressivity=float(rng.uniform(0.85, 1.2)),
        channel=channel,
    )


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise DataError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def _emotion_index(emotion: str) -> int:
    if emotion not in EMOTIONS:
        raise DataError(f"emotion {emotion!r} is not one of {', '.join(EMOTIONS)}")
    return EMOTIONS.index(emotion)


# ---------------------------------------------------------------------------
# Building blocks (also used by the chapter's figures)
# ---------------------------------------------------------------------------


def glottal_flow(phase: np.ndarray, open_quotient: float | np.ndarray = 0.5) -> np.ndarray:
    """KLGLOTT88 glottal flow ``Ug = a t^2 - b t^3`` over the open phase, 0 while closed.

    Parameters
    ----------
    phase : np.ndarray
        Position inside the glottal cycle; only the fractional part is used
        (``0`` = glottis opens).
    open_quotient : float or np.ndarray, default 0.5
        Fraction of the cycle the glottis is open (0.5 modal, 0.6-0.8 breathy,
        lower is tense; synth-reference.md, KLGLOTT88).

    Returns
    -------
    np.ndarray
        Flow normalised to a peak of 1 (reached at 2/3 of the open phase).

    Notebook: ``book/02_data.ipynb``.
    """
    frac = np.asarray(phase, dtype=np.float64) % 1.0
    x = frac / np.asarray(open_quotient, dtype=np.float64)
    return np.where(x < 1.0, 6.75 * x * x * (1.0 - x), 0.0)


def tilt_coefficient(tilt_db: float, sr: int) -> float:
    """Pole ``a`` of the one-pole low-pass ``(1 - a) / (1 - a z^-1)`` that attenuates 3 kHz by ``tilt_db``.

    This is KLSYN88's spectral tilt (TL: 0-41 dB of attenuation at 3 kHz;
    modal ~8 dB, breathy ~24 dB, tense less).

    Notebook: ``book/02_data.ipynb``.
    """
    if tilt_db <= 0:
        return 0.0
    g = 10.0 ** (tilt_db / 10.0)
    c = np.cos(2 * np.pi * min(3000.0, 0.45 * sr) / sr)
    # |1 - a e^{-jw}|^2 = g (1 - a)^2  ->  (1 - g) a^2 + 2 (g - c) a + (1 - g) = 0
    roots = np.roots([1.0 - g, 2.0 * (g - c), 1.0 - g])
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= 0) & (roots < 1)]
    return float(roots.min()) if roots.size else 0.0


def _resonator_sos(freqs: np.ndarray, bws: np.ndarray, sr: int) -> np.ndarray:
    """Klatt digital resonators as second-order sections, unity gain at 0 Hz.

    ``freqs`` and ``bws`` have shape (..., n_formants); returns (..., n_formants, 6).
    Formants at or above 0.45 sr become pass-through sections.
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    bws = np.asarray(bws, dtype=np.float64)
    r = np.exp(-np.pi * bws / sr)
    c = -(r**2)
    b = 2.0 * r * np.cos(2.0 * np.pi * freqs / sr)
    a = 1.0 - b - c
    sos = np.zeros(freqs.shape + (6,))
    sos[..., 0] = a
    sos[..., 3] = 1.0
    sos[..., 4] = -b
    sos[..., 5] = -c
    off = freqs >= 0.45 * sr
    sos[off] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return sos


def formant_response(
    formants: Sequence[float],
    bandwidths: Sequence[float] = KLATT_BANDWIDTHS,
    sr: int = 16000,
    n_freqs: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency response of the cascade of formant resonators the synthesiser uses.

    Parameters
    ----------
    formants : sequence of float
        Formant frequencies in Hz.
    bandwidths : sequence of float, default Klatt (1980)'s 50, 70, 110, 250, 200 Hz
    sr : int, default 16000
    n_freqs : int, default 1024

    Returns
    -------
    freqs : np.ndarray
        Frequencies in Hz from 0 to sr/2.
    gain_db : np.ndarray
        Gain in dB (0 dB at 0 Hz).

    Notebook: ``book/02_data.ipynb``.
    """
    f = np.asarray(formants, dtype=np.float64)
    bw = np.asarray(bandwidths, dtype=np.float64)[: f.size]
    if bw.size != f.size:
        raise DataError(f"need one bandwidth per formant: {f.size} formants, {bw.size} bandwidths")
    sos = _resonator_sos(f, bw, sr)
    w, h = signal.sosfreqz(sos, worN=n_freqs, fs=sr)
    return w, 20.0 * np.log10(np.maximum(np.abs(h), 1e-12))


# ---------------------------------------------------------------------------
# Texts, per-utterance parameters, segment plans
# ---------------------------------------------------------------------------

#: How many different "sentences" the corpus uses (utterance k speaks sentence k mod N_TEXTS).
N_TEXTS = 4


def _text(seed: int, k: int) -> list[tuple[str, str, str, bool]]:
    """Sentence ``k``: list of syllables (onset, vowel, coda, phrase break allowed after)."""
    rng = np.random.default_rng([seed, 3, k])
    n_syl = int(rng.integers(6, 10))
    vowels = list(VOWELS)
    sylls: list[tuple[str, str, str, bool]] = []
    i = 0
    while i < n_syl:
        n_word = min(int(rng.integers(1, 4)), n_syl - i)
        for j in range(n_word):
            onset = _ONSETS[int(rng.integers(len(_ONSETS)))]
            vowel = vowels[int(rng.integers(len(vowels)))]
            coda = _CODAS[int(rng.integers(len(_CODAS)))]
            last_in_word = j == n_word - 1
            brk = last_in_word and i + 1 < n_syl and rng.random() < 0.35
            sylls.append((onset, vowel, coda, bool(brk)))
            i += 1
    return sylls


@dataclass(frozen=True)
class _Params:
    f0: float
    f0_range: float  # semitones
    rate: float  # syllables / s
    level_db: float
    oq: float
    tilt_db: float
    jitter: float
    shimmer: float
    aspiration: float
    bandwidth: float
    pause: float
    accent: float
    final_rise: float
    articulation: float
    snr_db: float
    channel_db: float
    channel_f: float


#: Standard deviations of a speaker's personal way of acting an emotion at ``style=1``:
#: log-factors on F0, F0 range, rate, aspiration and pauses; dB on level and tilt; open quotient.
_STYLE_SD = {
    "f0": 0.10, "f0_range": 0.30, "rate": 0.12, "level_db": 2.5, "tilt_db": 3.0,
    "oq": 0.05, "aspiration": 0.40, "pause": 0.40,
}


def expression_style(speaker_index: int, emotion: str, seed: int = 0, style: float = 1.0) -> dict[str, float]:
    """One speaker's fixed, personal deviations from the rule of one emotion.

    The same for every utterance of that speaker and emotion (drawn from
    ``default_rng([seed, 4, speaker, emotion])``) and zero when ``style`` is 0.

    Parameters
    ----------
    speaker_index : int
        0-based speaker number.
    emotion : str
        One of the eight emotion names.
    seed : int, default 0
        Corpus seed.
    style : float, default 1.0
        Scale of the deviations; at 1 their standard deviations are about 10 % on
        F0 and 12 % on tempo, 2.5 dB on level and 3 dB on tilt (comparable to the
        differences between neighbouring emotions).

    Returns
    -------
    dict of str to float
        Additive offsets, for the keys of the module's ``_STYLE_SD`` (log-factors
        for F0, range, rate, aspiration and pauses).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    style = float(style)
    if not np.isfinite(style) or style < 0:
        raise DataError(f"style must be a finite number >= 0, got {style}")
    if style == 0:
        return dict.fromkeys(_STYLE_SD, 0.0)
    e_idx = _emotion_index(emotion)
    z = np.random.default_rng([_check_int(seed, "seed"), 4, _check_int(speaker_index, "speaker index"), e_idx])
    draws = z.standard_normal(len(_STYLE_SD))
    return {k: float(style * sd * d) for (k, sd), d in zip(_STYLE_SD.items(), draws, strict=True)}


def _utterance_params(
    spk: Speaker, rule: EmotionRule, rng: np.random.Generator, quirk: dict[str, float] | None = None
) -> _Params:
    """Speaker baseline + emotion rule scaled by the speaker's expressivity and a random strength.

    ``quirk`` (from :func:`expression_style`) shifts the result by the speaker's
    personal way of acting this emotion; it draws nothing from ``rng``, so
    clips made without it are unchanged.
    """
    p = _rule_params(spk, rule, rng)
    if not quirk or not any(quirk.values()):
        return p
    q = quirk
    return replace(
        p,
        f0=p.f0 * float(np.exp(q["f0"])),
        f0_range=p.f0_range * float(np.exp(q["f0_range"])),
        rate=p.rate * float(np.exp(q["rate"])),
        level_db=p.level_db + q["level_db"],
        tilt_db=float(np.clip(p.tilt_db + q["tilt_db"], 0.0, 30.0)),
        oq=float(np.clip(p.oq + q["oq"], 0.3, 0.85)),
        aspiration=p.aspiration * float(np.exp(q["aspiration"])),
        pause=p.pause * float(np.exp(q["pause"])),
    )


def _rule_params(spk: Speaker, rule: EmotionRule, rng: np.random.Generator) -> _Params:
    """The rule-based part of :func:`_utterance_params` (every random draw of it)."""
    s = spk.expressivity * float(np.exp(rng.normal(0.0, 0.2)))

    def fac(x: float) -> float:  # factor rule, applied on a log scale
        return float(np.exp(s * np.log(x)))

    def lognorm(sd: float) -> float:
        return float(np.exp(rng.normal(0.0, sd)))

    return _Params(
        f0=spk.f0 * fac(rule.f0_mean) * lognorm(0.06),
        f0_range=spk.f0_range * fac(rule.f0_range) * lognorm(0.2),
        rate=spk.rate * fac(rule.tempo) * lognorm(0.07),
        level_db=s * rule.intensity_db + spk.channel[4] + rng.normal(0.0, 1.0),
        oq=float(np.clip(spk.open_quotient + s * rule.open_quotient + rng.normal(0, 0.03), 0.3, 0.85)),
        tilt_db=float(np.clip(spk.tilt_db + s * rule.tilt_db + rng.normal(0, 1.0), 0.0, 30.0)),
        jitter=spk.jitter * fac(rule.jitter) * lognorm(0.2),
        shimmer=spk.shimmer * fac(rule.shimmer) * lognorm(0.2),
        aspiration=spk.aspiration * fac(rule.aspiration) * lognorm(0.25),
        bandwidth=fac(rule.bandwidth) * lognorm(0.1),
        pause=fac(rule.pause) * lognorm(0.2),
        accent=float(np.clip(0.3 + s * (rule.accent - 0.3) + rng.normal(0, 0.05), 0.05, 0.9)),
        final_rise=float(np.clip(rule.final_rise * min(s, 1.0) + 0.05, 0.0, 0.95)),
        articulation=fac(rule.articulation) * lognorm(0.05),
        snr_db=float(rng.uniform(20.0, 40.0)),
        channel_db=float(rng.normal(0.0, 1.5)),
        channel_f=float(np.exp(rng.uniform(np.log(300), np.log(5000)))),
    )


def _plan(
    text: list[tuple[str, str, str, bool]],
    spk: Speaker,
    p: _Params,
    rng: np.random.Generator,
) -> tuple[list[_Seg], list[bool], bool]:
    """Turn a sentence into timed segments; returns (segments, accent per syllable, final rise)."""
    female = spk.gender == "female"
    tempo = p.rate / 4.3  # the segment durations below are for ~4.3 syllables/s
    segs: list[_Seg] = [_Seg(float(rng.uniform(0.08, 0.2)))]
    accents = [bool(rng.random() < p.accent) for _ in text]
    if not any(accents):
        accents[int(rng.integers(len(text)))] = True
    n = len(text)
    for i, (onset, vowel, coda, brk) in enumerate(text):
        stretch = 1.0 / tempo
        if accents[i]:
            stretch *= 1.2
        if i == n - 1 or brk:
            stretch *= 1.3  # phrase-final lengthening
        stretch *= float(np.exp(rng.normal(0.0, 0.1)))
        fv = np.array(VOWELS[vowel][1 if female else 0], dtype=np.float64)
        schwa = np.array(_SCHWA[1 if female else 0])
        fv = schwa + p.articulation * (fv - schwa)  # centralised (< 1) or expanded (> 1)
        fv = fv * float(np.exp(rng.normal(0.0, 0.03)))
        vdur = 0.12 if coda else 0.15
        for c in _CONSONANTS[onset]:
            segs.append(replace(c, dur=c.dur * stretch**0.6, syllable=i))
        segs.append(_Seg(vdur * stretch, voice=1.0, asp=0.0, formants=tuple(fv), syllable=i, nucleus=True))
        for c in _CONSONANTS[coda]:
            segs.append(replace(c, dur=c.dur * stretch**0.6, syllable=i))
        if brk and rng.random() < min(1.0, 0.55 * p.pause):
            segs.append(_Seg(float(rng.uniform(0.08, 0.25)) * p.pause / tempo**0.5))
    segs.append(_Seg(float(rng.uniform(0.08, 0.2))))
    final_rise = bool(rng.random() < p.final_rise)
    return segs, accents, final_rise


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving-average smoothing along axis 0 with edge padding (width in blocks)."""
    if width <= 1:
        return x
    k = np.hanning(width + 2)[1:-1]
    k /= k.sum()
    pad = width // 2
    xp = np.pad(x, [(pad, width - 1 - pad)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    if x.ndim == 1:
        return np.convolve(xp, k, mode="valid")
    return np.stack([np.convolve(xp[:, j], k, mode="valid") for j in range(x.shape[1])], axis=1)


def _upsample(blocks: np.ndarray, hop: int, n: int) -> np.ndarray:
    """Linear interpolation of block-rate columns (rows centred at ``(i + 0.5) hop``) to ``n`` samples."""
    centres = (np.arange(blocks.shape[0]) + 0.5) * hop
    t = np.arange(n, dtype=np.float64)
    out = np.empty((n, blocks.shape[1]))
    for j in range(blocks.shape[1]):
        out[:, j] = np.interp(t, centres, blocks[:, j])
    return out


def _biquad_peak(f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """RBJ audio-EQ-cookbook peaking filter as one second-order section."""
    f0 = min(f0, 0.45 * sr)
    a_ = 10.0 ** (gain_db / 40.0)
    w0 = 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a_, -2 * np.cos(w0), 1 - alpha * a_])
    a = np.array([1 + alpha / a_, -2 * np.cos(w0), 1 - alpha / a_])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


try:  # scipy's compiled kernel behind signal.sosfilt: in-place, no per-call validation
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # pragma: no cover - other scipy layouts use the public function
    _sosfilt_kernel = None


def _time_varying_cascade(x: np.ndarray, sos: np.ndarray, hop: int) -> np.ndarray:
    """Filter ``x`` with second-order sections that change every ``hop`` samples.

    ``sos`` has shape (n_blocks, n_sections, 6); the filter state is carried from
    one block to the next, so formants glide without resetting the resonators.
    """
    n = x.shape[0]
    n_blocks = sos.shape[0]
    if _sosfilt_kernel is not None:
        y = np.ascontiguousarray(x, dtype=np.float64).reshape(1, n).copy()
        zi = np.zeros((1, sos.shape[1], 2))
        sos = np.ascontiguousarray(sos, dtype=np.float64)
        for b in range(n_blocks):
            _sosfilt_kernel(sos[b], y[:, b * hop : min(n, (b + 1) * hop)], zi)
        return y[0]
    out = np.empty(n)
    zi2 = np.zeros((sos.shape[1], 2))
    for b in range(n_blocks):
        s0, s1 = b * hop, min(n, (b + 1) * hop)
        out[s0:s1], zi2 = signal.sosfilt(sos[b], x[s0:s1], zi=zi2)
    return out


# ---------------------------------------------------------------------------
# The synthesiser
# ---------------------------------------------------------------------------


def synthesize(
    speaker: Speaker | int,
    emotion: str,
    utterance: int = 0,
    seed: int = 0,
    sr: int = 16000,
    *,
    style: float = 0.0,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """Synthesise one emotional utterance.

    Parameters
    ----------
    speaker : Speaker or int
        A speaker from :func:`make_speaker` or its index (made with ``seed``).
    emotion : str
        One of the eight RAVDESS emotion names (see :data:`EMOTION_RULES`).
    utterance : int, default 0
        Utterance index; it also picks the sentence (``utterance % N_TEXTS``).
    seed : int, default 0
        Corpus seed. The clip depends only on (seed, speaker, emotion, utterance).
    sr : int, default 16000
        Sample rate in Hz (8000 or more).
    style : float, default 0.0
        How individual the speaker's way of acting each emotion is (see
        :func:`expression_style`); 0 = everybody follows the same rules.
    return_info : bool, default False
        Also return a dict with the parameters and the per-sample F0 and voicing
        (used by the chapter's figures and by the tests).

    Returns
    -------
    y : np.ndarray, float32
        The clip, peak below 1 (no clipping), finite.
    info : dict
        Only when ``return_info``.

    Raises
    ------
    DataError
        Unknown emotion, negative index or seed, too low a sample rate.

    Notes
    -----
    Rule values: :data:`EMOTION_RULES` (MARY TTS, Schroeder 2006; Emofilt,
    Burkhardt & Sendlmeier 2000; Murray & Arnott 1993; Juslin & Laukka 2003).
    Glottal source: KLGLOTT88; flutter: Klatt & Klatt 1990
    (``dF0 = (FL/50)(F0/100)[sin 2pi 12.7t + sin 2pi 7.1t + sin 2pi 4.7t]``);
    resonators and bandwidths: Klatt 1980; F0 and formants: Hillenbrand et al. 1995.

    Notebook: ``book/02_data.ipynb``.
    """
    if not isinstance(speaker, Speaker):
        speaker = make_speaker(speaker, seed)
    e_idx = _emotion_index(emotion)
    utterance = _check_int(utterance, "utterance index")
    seed = _check_int(seed, "seed")
    sr = _check_int(sr, "sample rate")
    if sr < 8000:
        raise DataError(f"sample rate must be at least 8000 Hz, got {sr}")
    rng = np.random.default_rng([seed, 2, speaker.index, e_idx, utterance])
    quirk = expression_style(speaker.index, emotion, seed, style)
    p = _utterance_params(speaker, EMOTION_RULES[emotion], rng, quirk)
    text = _text(seed, utterance % N_TEXTS)
    segs, accents, final_rise = _plan(text, speaker, p, rng)

    # --- segment table -> block-rate (5 ms) tracks ---------------------------------------
    hop = max(1, sr // 200)
    seg_n = np.array([max(1, round(s.dur * sr)) for s in segs])
    ends = np.cumsum(seg_n)
    n = int(ends[-1])
    n_blocks = -(-n // hop)
    centres = (np.arange(n_blocks) + 0.5) * hop
    seg_of_block = np.minimum(np.searchsorted(ends, centres, side="right"), len(segs) - 1)

    voice = np.array([s.voice for s in segs])[seg_of_block]
    asp = np.array([s.asp for s in segs])[seg_of_block]
    fric = np.zeros((n_blocks, len(_BAND_NAMES)))
    for j, band in enumerate(_BAND_NAMES):
        fric[:, j] = np.array([s.fric if s.band == band else 0.0 for s in segs])[seg_of_block]

    # Formant targets: consonants without targets and silences take the next vowel's.
    female = speaker.gender == "female"
    targets = np.full((len(segs), 3), np.nan)
    for i, s in enumerate(segs):
        if s.formants is not None:
            targets[i] = s.formants
    for i in range(len(segs) - 2, -1, -1):
        if np.isnan(targets[i, 0]):
            targets[i] = targets[i + 1]
    last = np.where(~np.isnan(targets[:, 0]))[0][-1]
    targets[last + 1 :] = targets[last]
    is_vowel = np.array([s.nucleus for s in segs])
    # consonant targets are for a male tract: scale them for women like the vowel tables
    targets[~is_vowel] *= 1.15 if female else 1.0
    fmt = targets[seg_of_block] * speaker.vtl_scale
    fmt = _smooth(fmt, 8)  # ~40 ms formant transitions
    k45 = (1.15 if female else 1.0) * speaker.vtl_scale
    f45 = np.broadcast_to([3500.0 * k45, 4500.0 * k45], (n_blocks, 2))
    fmt = np.concatenate([fmt, f45], axis=1)
    bw = np.broadcast_to(np.array(KLATT_BANDWIDTHS) * p.bandwidth, fmt.shape)

    amp_blocks = _smooth(np.column_stack([voice, asp, fric]), 3)

    # --- F0 contour (semitones re the utterance's F0) --------------------------------------
    t_b = centres / sr
    syl_of_seg = np.array([s.syllable for s in segs])
    starts = ends - seg_n
    st = np.zeros(n_blocks)
    voiced_idx = np.where(is_vowel)[0]
    t_first = starts[voiced_idx[0]] / sr
    t_last = ends[voiced_idx[-1]] / sr
    span = max(t_last - t_first, 1e-3)
    decl = p.f0_range * float(rng.uniform(0.4, 0.8))
    st += decl * (0.5 - np.clip((t_b - t_first) / span, 0, 1))  # declination
    for i in voiced_idx:
        syl = syl_of_seg[i]
        if accents[syl]:
            c = 0.5 * (starts[i] + ends[i]) / sr
            w = 0.6 * seg_n[i] / sr
            st += p.f0_range * float(rng.uniform(0.5, 1.0)) * np.exp(-0.5 * ((t_b - c) / w) ** 2)
    last_v = voiced_idx[-1]
    t0, t1 = starts[last_v] / sr, ends[last_v] / sr
    ramp = np.clip((t_b - t0) / max(t1 - t0, 1e-3), 0, 1)
    if final_rise:
        st += p.f0_range * float(rng.uniform(0.8, 1.5)) * ramp
    else:
        st -= p.f0_range * float(rng.uniform(0.2, 0.6)) * ramp
    st -= np.mean(st[voice > 0.5]) if np.any(voice > 0.5) else 0.0
    f0_blocks = p.f0 * 2.0 ** (st / 12.0)

    # Klatt's flutter (slow, < 13 Hz: computed at the block rate)
    tb = centres / sr
    f0_blocks = f0_blocks + (25.0 / 50.0) * (f0_blocks / 100.0) * (
        np.sin(2 * np.pi * 12.7 * tb) + np.sin(2 * np.pi * 7.1 * tb) + np.sin(2 * np.pi * 4.7 * tb)
    )

    # --- to sample rate (linear interpolation between block centres) ---------------------
    used = np.flatnonzero(np.any(amp_blocks > 0, axis=0))
    tracks = _upsample(np.column_stack([f0_blocks, amp_blocks[:, used]]), hop, n)
    f0 = tracks[:, 0]
    amps = np.zeros((n, amp_blocks.shape[1]))
    amps[:, used] = tracks[:, 1:]
    v_amp, a_amp, f_amp = amps[:, 0], amps[:, 1], amps[:, 2:]

    # --- glottal source: KLGLOTT88 pulses with jitter and shimmer ------------------------
    phase = np.cumsum(f0) / sr
    n_cyc = int(phase[-1]) + 3
    jit = 1.0 + p.jitter * np.clip(rng.standard_normal(n_cyc), -3, 3)
    f0j = f0 * jit[phase.astype(np.int64)]
    phase = np.cumsum(f0j) / sr
    cyc = phase.astype(np.int64)
    shim = 1.0 + p.shimmer * np.clip(rng.standard_normal(n_cyc), -3, 3)
    flow = glottal_flow(phase, p.oq) * shim[cyc]
    src = np.diff(flow, prepend=0.0) * v_amp  # lip radiation: derivative of the flow
    a_tilt = tilt_coefficient(p.tilt_db, sr)
    if a_tilt > 0:
        src = signal.lfilter([1.0 - a_tilt], [1.0, -a_tilt], src)
    src_rms = np.sqrt(np.mean(src[v_amp > 0.5] ** 2)) if np.any(v_amp > 0.5) else 1.0
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0) * 0.5  # aspiration is high-frequency heavy
    src = src + src_rms * noise * (p.aspiration * 4.0 * (0.25 + flow) * v_amp + a_amp)

    # --- vocal tract: time-varying formant cascade, coefficients every 5 ms --------------
    out = _time_varying_cascade(src, _resonator_sos(fmt, bw, sr), hop)

    # --- noise consonants (after the tract) ---------------------------------------------
    wn = rng.standard_normal(n)
    out_rms = np.sqrt(np.mean(out[v_amp > 0.5] ** 2)) if np.any(v_amp > 0.5) else 1.0
    for j, band in enumerate(_BAND_NAMES):
        if not np.any(f_amp[:, j] > 0):
            continue
        lo, hi = _FRIC_BANDS[band]
        hi = min(hi, 0.45 * sr)
        lo = min(lo, 0.5 * hi)
        bp = signal.butter(2, [lo, hi], btype="bandpass", fs=sr, output="sos")
        active = f_amp[:, j] > 0
        i0, i1 = np.argmax(active), n - np.argmax(active[::-1])
        band_noise = signal.sosfilt(bp, wn[i0:i1])
        out[i0:i1] += out_rms * 2.0 * band_noise * f_amp[i0:i1, j]

    # --- level, recording channel, background noise -------------------------------------
    active = (v_amp + a_amp + f_amp.sum(axis=1)) > 0.3
    speech_rms = np.sqrt(np.mean(out[active] ** 2)) if np.any(active) else 1.0
    target_rms = 10.0 ** ((-26.0 + p.level_db) / 20.0)
    y = out * (target_rms / max(speech_rms, 1e-12))
    hp_f, pk_f, pk_g, pk_q, _ = speaker.channel
    chan = np.concatenate(
        [
            signal.butter(1, hp_f, btype="highpass", fs=sr, output="sos"),
            _biquad_peak(pk_f, pk_g, pk_q, sr),
            _biquad_peak(p.channel_f, p.channel_db, 1.0, sr),
        ]
    )
    y = signal.sosfilt(chan, y)
    bg = rng.standard_normal(n)
    bg = signal.lfilter([1.0], [1.0, -float(rng.uniform(0.0, 0.95))], bg)  # white to reddish
    bg *= target_rms * 10.0 ** (-p.snr_db / 20.0) / max(np.sqrt(np.mean(bg**2)), 1e-12)
    y = y + bg
    peak = float(np.max(np.abs(y)))
    limited = peak > 0.95
    if limited:
        y *= 0.95 / peak
    y = y.astype(np.float32)
    if not return_info:
        return y
    voiced = v_amp > 0.5
    info = {
        "speaker": speaker,
        "emotion": emotion,
        "utterance": utterance,
        "params": p,
        "f0": np.where(voiced, f0j, 0.0).astype(np.float32),
        "voiced": voiced,
        "formants": fmt,
        "hop": hop,
        "final_rise": final_rise,
        "accents": accents,
        "n_syllables": len(text),
        "duration": n / sr,
        "limited": limited,
    }
    return y, info


# ---------------------------------------------------------------------------
# Whole corpora
# ---------------------------------------------------------------------------

MANIFEST_COLUMNS = ("path", "emotion", "speaker", "gender", "corpus")


def write_corpus(
    out: str | os.PathLike[str],
    n_speakers: int = 24,
    n_utterances: int = 8,
    emotions: Iterable[str] | None = None,
    seed: int = 0,
    sr: int = 16000,
    *,
    corpus: str = "synthetic",
    style: float = 0.0,
    progress: bool = True,
) -> Path:
    """Generate a synthetic corpus: one 16-bit PCM WAV per clip and ``manifest.csv``.

    Files are ``OUT/<speaker>/<speaker>_<emotion>_<utterance>.wav``; the manifest
    has columns ``path,emotion,speaker,gender,corpus`` with paths relative to it.

    Parameters
    ----------
    out : path
        Output folder (created).
    n_speakers : int, default 24
        Speakers ``S01..`` (alternately female and male).
    n_utterances : int, default 8
        Clips per speaker and emotion.
    emotions : iterable of str, optional
        Subset of the eight emotions (default all).
    seed : int, default 0
    sr : int, default 16000
    corpus : str, default "synthetic"
        Value of the manifest's ``corpus`` column.
    style : float, default 0.0
        Individual emotional expression per speaker (see :func:`expression_style`).
    progress : bool, default True
        Show a tqdm progress bar on stderr.

    Returns
    -------
    Path
        The manifest's path.

    Notebook: ``book/02_data.ipynb``.
    """
    import soundfile as sf
    from tqdm.auto import tqdm

    n_speakers = _check_int(n_speakers, "number of speakers")
    n_utterances = _check_int(n_utterances, "number of utterances")
    if n_speakers == 0 or n_utterances == 0:
        raise DataError("need at least one speaker and one utterance")
    sr = _check_int(sr, "sample rate")
    if sr < 8000:
        raise DataError(f"sample rate must be at least 8000 Hz, got {sr}")
    emos = list(EMOTIONS if emotions is None else emotions)
    if not emos:
        raise DataError("need at least one emotion")
    for e in emos:
        _emotion_index(e)
    expression_style(0, emos[0], seed, style)  # validates style before anything is written
    if len(set(emos)) != len(emos):
        raise DataError(f"emotions repeated: {emos}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [(s, e, u) for s in range(n_speakers) for e in emos for u in range(n_utterances)]
    speakers = {s: make_speaker(s, seed) for s in range(n_speakers)}
    for s, e, u in tqdm(jobs, desc="synthesising", unit="clip", disable=not progress):
        spk = speakers[s]
        y = synthesize(spk, e, u, seed=seed, sr=sr, style=style)
        rel = f"{spk.name}/{spk.name}_{e}_{u:02d}.wav"
        (out / spk.name).mkdir(exist_ok=True)
        sf.write(str(out / rel), y, sr, subtype="PCM_16")
        rows.append((rel, e, spk.name, spk.gender, corpus))
    manifest = out / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    return manifest
