"""Corpora: manifests, the synthetic corpus presets, real-corpus parsers and downloads.

A *manifest* is a CSV file with one row per clip and at least the columns
``path,emotion,speaker`` (plus ``gender``, ``corpus`` and optionally ``split``);
paths are relative to the CSV's folder and emotions use RAVDESS's eight names
(:data:`EMOTIONS`). :func:`read_manifest` validates one and returns a
:class:`pandas.DataFrame` with absolute paths; :func:`preset` returns the
folder of a cached synthetic corpus (:mod:`sertools.synth`);
:func:`load_corpus` also recognises RAVDESS, CREMA-D, EmoDB, TESS and SAVEE
folders.

Notebook: ``book/02_data.ipynb`` (chapter "Speech and emotion: the data").
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sertools.errors import DataError

__all__ = [
    "EMOTIONS",
    "PARSERS",
    "PRESETS",
    "cache_dir",
    "detect_corpus",
    "fetch",
    "fetch_emodb",
    "fetch_ravdess",
    "load_corpus",
    "parse_crema_d",
    "parse_emodb",
    "parse_ravdess",
    "parse_savee",
    "parse_tess",
    "preset",
    "read_manifest",
    "safe_extract",
]

#: The eight emotion labels, RAVDESS's names and order (codes 01-08).
EMOTIONS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)

#: Synthetic corpus presets: keyword arguments of :func:`sertools.synth.write_corpus`.
PRESETS: dict[str, dict[str, int]] = {
    # 8 speakers (4 female, 4 male) x 8 emotions x 3 clips = 192 clips: generated in seconds.
    "small": {"n_speakers": 8, "n_utterances": 3, "seed": 0, "sr": 16000},
    # 24 speakers (like RAVDESS's 24 actors) x 8 emotions x 8 clips = 1536 clips.
    "default": {"n_speakers": 24, "n_utterances": 8, "seed": 0, "sr": 16000},
}

REQUIRED_COLUMNS = ("path", "emotion", "speaker")
SPLITS = ("train", "val", "test")


def cache_dir() -> Path:
    """The sertools cache folder: ``$SERTOOLS_CACHE`` or ``~/.cache/sertools`` (created).

    Notebook: ``book/02_data.ipynb``.
    """
    root = os.environ.get("SERTOOLS_CACHE") or str(Path.home() / ".cache" / "sertools")
    p = Path(root).expanduser()
    p.mkdir(parents=True, exist_ok=True)
    return p


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock on ``path`` held for the ``with`` block (released if the process dies)."""
    with open(path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            fh.seek(0)
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def preset(name: str = "small", *, progress: bool = True) -> Path:
    """Folder of a synthetic corpus preset, generated on first use and cached.

    The corpus lives in ``cache_dir() / f"synth-{name}-v{GENERATOR_VERSION}"``
    (see :func:`cache_dir`), so every notebook and test shares one copy and a
    new generator version never reuses an old copy. Generation writes into a
    temporary folder that is renamed into place under a file lock, so several
    processes asking at once (pytest-xdist, nbval workers) are safe: one
    generates, the others wait and reuse it.

    Parameters
    ----------
    name : {"small", "default"}
        ``"small"``: 8 speakers (4 female, 4 male) x 8 emotions x 3 clips;
        ``"default"``: 24 speakers x 8 emotions x 8 clips. Both use seed 0 at
        16 kHz, so "small" is a subset of "default" (same bytes).
    progress : bool, default True
        Show a progress bar while generating.

    Returns
    -------
    Path
        Folder holding ``manifest.csv`` and the WAV files (read it with
        :func:`read_manifest`).

    Raises
    ------
    DataError
        Unknown preset name.

    Notebook: ``book/02_data.ipynb``.
    """
    from sertools.synth import GENERATOR_VERSION, write_corpus

    if name not in PRESETS:
        raise DataError(f"unknown corpus preset {name!r}; choose one of {', '.join(PRESETS)}")
    root = cache_dir()
    final = root / f"synth-{name}-v{GENERATOR_VERSION}"
    if (final / "manifest.csv").is_file():
        return final
    with _file_lock(root / f".synth-{name}-v{GENERATOR_VERSION}.lock"):
        if (final / "manifest.csv").is_file():  # another process made it while we waited
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-synth-{name}-", dir=root))
        try:
            write_corpus(tmp, **PRESETS[name], progress=progress)
            if final.exists():  # a broken leftover (no manifest): replace it
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_manifest(path: str | os.PathLike[str], *, check_audio: bool = True) -> pd.DataFrame:
    """Read and validate a manifest CSV (or the ``manifest.csv`` of a folder).

    Every problem is collected first and reported together in one
    :class:`~sertools.DataError` that lists each bad row with its line number
    in the file and the reason: a missing path, emotion or speaker value, an
    emotion that is not one of :data:`EMOTIONS`, a missing or unreadable audio
    file, a file listed twice, a ``split`` other than train/val/test.

    Parameters
    ----------
    path : path
        The CSV, or a folder that contains ``manifest.csv``.
    check_audio : bool, default True
        Open every file's header (soundfile) to check it is readable audio.

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (absolute, str), ``emotion``, ``speaker`` (str),
        ``gender`` (``"unknown"`` where absent), ``corpus`` (the folder's name
        where absent), ``split`` if the file has one, then any other columns.

    Raises
    ------
    DataError
        File missing or not a CSV, required columns missing, or bad rows.

    Notebook: ``book/02_data.ipynb``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.csv"
    if not p.is_file():
        raise DataError(f"{p}: no such manifest file")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(f"{p}: not a readable CSV file ({e})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{p}: missing column(s) {', '.join(missing)}; a manifest needs "
            f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(df.columns) or 'none'})"
        )
    base = p.parent.resolve()
    problems: list[str] = []
    abs_paths: list[str] = []
    first_line: dict[str, int] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        line = i + 2  # line 1 is the header
        r = row._asdict()
        reasons = []
        rel = str(r["path"]).strip()
        full = ""
        if not rel:
            reasons.append("empty path")
        else:
            full = str((base / rel).resolve()) if not os.path.isabs(rel) else str(Path(rel).resolve())
            if full in first_line:
                reasons.append(f"duplicate of line {first_line[full]} ({rel})")
            else:
                first_line[full] = line
            if not os.path.isfile(full):
                reasons.append(f"file not found: {rel}")
            elif check_audio:
                reason = _unreadable(full)
                if reason:
                    reasons.append(f"unreadable audio {rel}: {reason}")
        emo = str(r["emotion"]).strip()
        if emo not in EMOTIONS:
            reasons.append(f"unknown emotion {emo!r} (expected one of {', '.join(EMOTIONS)})")
        if not str(r["speaker"]).strip():
            reasons.append("empty speaker")
        if "split" in r and str(r["split"]).strip() not in SPLITS:
            reasons.append(f"split {r['split']!r} is not one of {', '.join(SPLITS)}")
        if reasons:
            problems.append(f"line {line}: " + "; ".join(reasons))
        abs_paths.append(full)
    if problems:
        raise DataError(f"{p}: {len(problems)} bad row(s):\n" + "\n".join(problems))
    if df.empty:
        raise DataError(f"{p}: the manifest has no rows")
    out = df.copy()
    for c in out.columns:
        out[c] = out[c].str.strip()
    out["path"] = abs_paths
    if "gender" not in out.columns:
        out["gender"] = "unknown"
    out["gender"] = out["gender"].replace("", "unknown")
    if "corpus" not in out.columns:
        out["corpus"] = base.name
    first = ["path", "emotion", "speaker", "gender", "corpus"] + (["split"] if "split" in out else [])
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def _unreadable(path: str) -> str:
    """Empty string when soundfile can read the header and the file has samples, else why not."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except Exception as e:  # LibsndfileError, RuntimeError...
        return str(e).splitlines()[0] if str(e) else type(e).__name__
    if info.frames == 0:
        return "zero samples"
    return ""


# ---------------------------------------------------------------------------
# Real corpora: parsers of their file-naming schemes
# ---------------------------------------------------------------------------

#: RAVDESS emotion codes 01-08 (``MM-VC-EE-II-SS-RR-AA.wav``).
RAVDESS_CODES: dict[str, str] = {f"{i + 1:02d}": e for i, e in enumerate(EMOTIONS)}
#: CREMA-D emotion codes.
CREMA_D_CODES: dict[str, str] = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
#: EmoDB emotion letters (German initials). ``L`` (Langeweile, boredom) has no RAVDESS
#: name: it is left out unless ``boredom=`` names a label to map it to.
EMODB_CODES: dict[str, str | None] = {
    "W": "angry",
    "L": None,
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
EMODB_MALE = frozenset({"03", "10", "11", "12", "15"})
#: TESS emotion words; ``ps`` is "pleasant surprise".
TESS_CODES: dict[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "ps": "surprised",
    "sad": "sad",
    "neutral": "neutral",
}
#: SAVEE file prefixes.
SAVEE_CODES: dict[str, str] = {
    "a": "angry",
    "d": "disgust",
    "f": "fearful",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprised",
}
SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")

_RAVDESS_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_CREMA_RE = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
_EMODB_RE = re.compile(r"^(\d{2})([ab]\d{2})([A-Z])([a-z])$")
_TESS_RE = re.compile(r"^(OAF|YAF)_([A-Za-z]+)_([A-Za-z]+)$", re.IGNORECASE)
_SAVEE_RE = re.compile(r"^(?:(DC|JE|JK|KL)_)?(sa|su|a|d|f|h|n)(\d{2})$")


def _wav_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())


def _frame(rows: list[dict[str, str]], skipped: list[str], corpus: str, folder: Path, strict: bool) -> pd.DataFrame:
    """Rows -> manifest DataFrame; skipped files reported (DataError if strict)."""
    if strict and skipped:
        raise DataError(f"{folder}: {len(skipped)} file(s) not usable as {corpus}:\n" + "\n".join(skipped))
    cols = ["path", "emotion", "speaker", "gender", "corpus"]
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=cols)
    df = df[cols + [c for c in df.columns if c not in cols]]
    df.attrs["skipped"] = list(skipped)
    return df.reset_index(drop=True)


def parse_ravdess(folder: str | os.PathLike[str], *, include_song: bool = False, strict: bool = False) -> pd.DataFrame:
    """Manifest rows of a RAVDESS folder (``MM-VC-EE-II-SS-RR-AA.wav``, any sub-folders).

    Emotion codes 01-08 are already the eight names of :data:`EMOTIONS`;
    actors 01-24, odd numbers male. Extra columns: ``intensity`` (normal/strong),
    ``statement`` (01/02), ``channel`` (speech/song).

    Parameters
    ----------
    folder : path
        E.g. the folder ``fetch_ravdess()`` returns or where
        ``Audio_Speech_Actors_01-24.zip`` was unpacked.
    include_song : bool, default False
        Also keep the song clips (vocal channel 02); by default they are skipped.
    strict : bool, default False
        Raise a :class:`DataError` listing every file that does not follow the
        naming scheme instead of skipping it.

    Returns
    -------
    pandas.DataFrame
        Manifest columns; ``df.attrs["skipped"]`` lists ``"path: reason"`` for
        each skipped file.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    rows, skipped = [], []
    for p in _wav_files(folder):
        m = _RAVDESS_RE.match(p.stem)
        if not m:
            skipped.append(f"{p}: name is not MM-VC-EE-II-SS-RR-AA (seven 2-digit fields)")
            continue
        modality, channel, emo, intensity, statement, _rep, actor = m.groups()
        reason = ""
        if modality != "03":
            reason = f"modality {modality} is not 03 (audio-only)"
        elif channel not in ("01", "02"):
            reason = f"vocal channel {channel} is not 01 (speech) or 02 (song)"
        elif channel == "02" and not include_song:
            reason = "song clip (vocal channel 02) left out; pass include_song=True to keep it"
        elif emo not in RAVDESS_CODES:
            reason = f"emotion code {emo} is not 01-08"
        elif intensity not in ("01", "02") or (emo == "01" and intensity == "02"):
            reason = f"intensity {intensity} is not valid for emotion {emo}"
        elif not 1 <= int(actor) <= 24:
            reason = f"actor {actor} is not 01-24"
        if reason:
            skipped.append(f"{p}: {reason}")
            continue
        rows.append(
            {
                "path": str(p.resolve()),
                "emotion": RAVDESS_CODES[emo],
                "speaker": f"ravdess_{actor}",
                "gender": "male" if int(actor) % 2 else "female",
                "corpus": "ravdess",
                "intensity": "normal" if intensity == "01" else "strong",
                "statement": statement,
                "channel": "speech" if channel == "01" else "song",
            }
        )
    return _frame(rows, skipped, "RAVDESS", folder, strict)


def _crema_demographics(path: Path) -> dict[str, str]:
    try:
        demo = pd.read_csv(path, dtype=str)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read the CREMA-D demographics file ({e})") from None
    if not {"ActorID", "Sex"} <= set(demo.columns):
        raise DataError(f"{path}: a CREMA-D demographics file needs columns ActorID and Sex (found {', '.join(demo.columns)})")
    return {str(a).strip(): str(s).strip().lower() for a, s in zip(demo["ActorID"], demo["Sex"], strict=True)}


def parse_crema_d(
    folder: str | os.PathLike[str],
    demographics: str | os.PathLike[str] | None = None,
    *,
    strict: bool = False,
) -> pd.DataFrame:
    """Manifest rows of a CREMA-D folder (``1001_DFA_ANG_XX.wav``).

    Six emotions (ANG, DIS, FEA, HAP, NEU, SAD; CREMA-D has no calm or
    surprised). Gender is not in the file names: it comes from the
    demographics file (``VideoDemographics.csv``, columns ``ActorID`` and
    ``Sex``), passed as ``demographics`` or found in ``folder`` or its parent;
    without it gender is ``"unknown"``. ``1076_MTI_SAD_XX`` is a known silent
    clip and is skipped. Extra columns: ``sentence``, ``level``.

    Parameters
    ----------
    folder : path
        Folder of the WAV files (e.g. ``AudioWAV``).
    demographics : path, optional
        The demographics CSV.
    strict : bool, default False
        Raise a :class:`DataError` listing every malformed name instead of skipping.

    Returns
    -------
    pandas.DataFrame
        Manifest columns; ``df.attrs["skipped"]`` lists skipped files with reasons.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    files = _wav_files(folder)
    if demographics is None:
        for cand in (folder / "VideoDemographics.csv", folder.parent / "VideoDemographics.csv"):
            if cand.is_file():
                demographics = cand
                break
    sex = _crema_demographics(Path(demographics)) if demographics is not None else {}
    rows, skipped = [], []
    for p in files:
        m = _CREMA_RE.match(p.stem)
        if not m:
            skipped.append(f"{p}: name is not ACTOR_SEN_EMO_LV (e.g. 1001_DFA_ANG_XX)")
            continue
        actor, sentence, emo, level = m.groups()
        if emo not in CREMA_D_CODES:
            skipped.append(f"{p}: emotion code {emo} is not one of {', '.join(CREMA_D_CODES)}")
            continue
        if not 1001 <= int(actor) <= 1091:
            skipped.append(f"{p}: actor {actor} is not 1001-1091")
            continue
        if p.stem == "1076_MTI_SAD_XX":
            skipped.append(f"{p}: known silent clip of CREMA-D")
            continue
        g = sex.get(actor, "unknown")
        rows.append(
            {
                "path": str(p.resolve()),
                "emotion": CREMA_D_CODES[emo],
                "speaker": f"crema_{actor}",
                "gender": g if g in ("male", "female") else "unknown",
                "corpus": "crema-d",
                "sentence": sentence,
                "level": level,
            }
        )
    return _frame(rows, skipped, "CREMA-D", folder, strict)


def parse_emodb(folder: str | os.PathLike[str], *, boredom: str | None = None, strict: bool = False) -> pd.DataFrame:
    """Manifest rows of an EmoDB folder (``03a01Fa.wav``: speaker, text, emotion letter, version).

    Letters W anger, E disgust, A fear, F happiness, T sadness, N neutral map to
    the RAVDESS names. **Boredom (L) has no RAVDESS name**: its 81 clips are
    left out (listed in ``attrs["skipped"]``) unless ``boredom`` names the
    label to use. Mapping it to "calm" would be a choice to justify: both are
    low-arousal, but boredom is negative and calm positive in valence, so the
    default keeps the labels honest. Male speakers: 03, 10, 11, 12, 15.

    Parameters
    ----------
    folder : path
        The ``wav`` folder of ``download.zip`` (or its parent).
    boredom : str, optional
        One of :data:`EMOTIONS` to map boredom to; default: leave boredom out.
    strict : bool, default False
        Raise a :class:`DataError` listing every malformed name instead of skipping.

    Returns
    -------
    pandas.DataFrame
        Manifest columns (+ ``text``); ``df.attrs["skipped"]`` lists skipped files.

    Notebook: ``book/02_data.ipynb``.
    """
    if boredom is not None and boredom not in EMOTIONS:
        raise DataError(f"boredom={boredom!r} is not one of {', '.join(EMOTIONS)}")
    folder = Path(folder)
    rows, skipped = [], []
    for p in _wav_files(folder):
        m = _EMODB_RE.match(p.stem)
        if not m:
            skipped.append(f"{p}: name is not SSTTTEV (e.g. 03a01Fa)")
            continue
        spk, text, letter, _version = m.groups()
        if letter not in EMODB_CODES:
            skipped.append(f"{p}: emotion letter {letter} is not one of {', '.join(EMODB_CODES)}")
            continue
        emo = EMODB_CODES[letter] or boredom
        if emo is None:
            skipped.append(f"{p}: boredom has no RAVDESS label; left out (pass boredom=... to map it)")
            continue
        rows.append(
            {
                "path": str(p.resolve()),
                "emotion": emo,
                "speaker": f"emodb_{spk}",
                "gender": "male" if spk in EMODB_MALE else "female",
                "corpus": "emodb",
                "text": text,
            }
        )
    return _frame(rows, skipped, "EmoDB", folder, strict)


def parse_tess(folder: str | os.PathLike[str], *, strict: bool = False) -> pd.DataFrame:
    """Manifest rows of a TESS folder (``OAF_back_angry.wav``; two female speakers OAF, YAF).

    Emotion words map to RAVDESS names (``fear`` -> fearful, ``ps``, pleasant
    surprise -> surprised); case is ignored. Extra column: ``word``.

    Parameters
    ----------
    folder : path
    strict : bool, default False
        Raise a :class:`DataError` listing every malformed name instead of skipping.

    Returns
    -------
    pandas.DataFrame
        Manifest columns; ``df.attrs["skipped"]`` lists skipped files.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    rows, skipped = [], []
    for p in _wav_files(folder):
        m = _TESS_RE.match(p.stem)
        if not m:
            skipped.append(f"{p}: name is not OAF|YAF_word_emotion")
            continue
        spk, word, emo = m.group(1).upper(), m.group(2).lower(), m.group(3).lower()
        if emo not in TESS_CODES:
            skipped.append(f"{p}: emotion {emo!r} is not one of {', '.join(TESS_CODES)}")
            continue
        rows.append(
            {
                "path": str(p.resolve()),
                "emotion": TESS_CODES[emo],
                "speaker": f"tess_{spk}",
                "gender": "female",
                "corpus": "tess",
                "word": word,
            }
        )
    return _frame(rows, skipped, "TESS", folder, strict)


def parse_savee(folder: str | os.PathLike[str], *, strict: bool = False) -> pd.DataFrame:
    """Manifest rows of a SAVEE folder (``DC/sa03.wav`` or flattened ``DC_sa03.wav``; 4 male speakers).

    Prefixes a anger, d disgust, f fear, h happiness, n neutral, sa sadness,
    su surprise; the speaker (DC, JE, JK, KL) comes from the prefix or the
    parent folder.

    Parameters
    ----------
    folder : path
    strict : bool, default False
        Raise a :class:`DataError` listing every malformed name instead of skipping.

    Returns
    -------
    pandas.DataFrame
        Manifest columns; ``df.attrs["skipped"]`` lists skipped files.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    rows, skipped = [], []
    for p in _wav_files(folder):
        m = _SAVEE_RE.match(p.stem)
        if not m:
            skipped.append(f"{p}: name is not [SPK_]PREFIX+NN (e.g. DC/sa03.wav, DC_sa03.wav)")
            continue
        spk = m.group(1) or p.parent.name
        if spk not in SAVEE_SPEAKERS:
            skipped.append(f"{p}: speaker {spk!r} is not one of {', '.join(SAVEE_SPEAKERS)}")
            continue
        rows.append(
            {
                "path": str(p.resolve()),
                "emotion": SAVEE_CODES[m.group(2)],
                "speaker": f"savee_{spk}",
                "gender": "male",
                "corpus": "savee",
            }
        )
    return _frame(rows, skipped, "SAVEE", folder, strict)


#: Corpus name -> (parser, file-name pattern used to recognise the corpus).
PARSERS = {
    "ravdess": (parse_ravdess, _RAVDESS_RE),
    "crema-d": (parse_crema_d, _CREMA_RE),
    "emodb": (parse_emodb, _EMODB_RE),
    "tess": (parse_tess, _TESS_RE),
    "savee": (parse_savee, _SAVEE_RE),
}


def detect_corpus(folder: str | os.PathLike[str]) -> str:
    """Name of the corpus a folder holds: ``"manifest"`` or a key of :data:`PARSERS`.

    The corpus whose naming scheme matches most WAV files wins (at least half of them).

    Raises
    ------
    DataError
        No manifest and no scheme matches.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    if (folder / "manifest.csv").is_file():
        return "manifest"
    files = _wav_files(folder)
    if not files:
        raise DataError(f"{folder}: no manifest.csv and no .wav files")
    counts = {name: sum(bool(rx.match(p.stem)) for p in files) for name, (_, rx) in PARSERS.items()}
    best = max(counts, key=lambda k: counts[k])
    if counts[best] * 2 < len(files):
        raise DataError(
            f"{folder}: not a recognised corpus: no manifest.csv, and the names of its {len(files)} "
            f".wav files match none of RAVDESS, CREMA-D, EmoDB, TESS, SAVEE"
        )
    return best


def load_corpus(folder: str | os.PathLike[str], *, strict: bool = False, **kwargs: object) -> pd.DataFrame:
    """Manifest of any corpus folder: a ``manifest.csv`` or a recognised real corpus.

    Parameters
    ----------
    folder : path
        A folder with ``manifest.csv`` (:func:`read_manifest`), or a RAVDESS,
        CREMA-D, EmoDB, TESS or SAVEE folder (detected by :func:`detect_corpus`).
    strict : bool, default False
        For real corpora: raise on any file that does not follow the naming
        scheme. Otherwise such files are skipped with a warning that counts them
        (the list is in ``df.attrs["skipped"]``).
    **kwargs
        Passed to the parser (e.g. ``demographics=`` for CREMA-D, ``boredom=`` for EmoDB).

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (absolute), ``emotion``, ``speaker``, ``gender``, ``corpus``, ...

    Raises
    ------
    DataError
        Not a corpus folder, an invalid manifest, or no usable clips.

    Notebook: ``book/02_data.ipynb``.
    """
    folder = Path(folder)
    if folder.is_file() and folder.suffix.lower() == ".csv":
        return read_manifest(folder)
    kind = detect_corpus(folder)
    if kind == "manifest":
        return read_manifest(folder)
    parser = PARSERS[kind][0]
    df = parser(folder, strict=strict, **kwargs)  # type: ignore[operator]
    skipped = df.attrs.get("skipped", [])
    if skipped:
        warnings.warn(
            f"{folder}: {len(skipped)} file(s) skipped ({kind}); first: {skipped[0]}",
            stacklevel=2,
        )
    if df.empty:
        raise DataError(f"{folder}: no usable clips ({kind}; {len(skipped)} skipped)")
    return df


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------

#: RAVDESS speech audio on Zenodo (record 1188976): URL and the MD5 Zenodo publishes for it
#: (208,468,073 bytes; the same value is recorded by several independent projects).
RAVDESS_URL = "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1"
RAVDESS_HASH = "md5:bc696df654c87fed845eb13823edef8a"
#: EmoDB's archive (Technische Universitaet Berlin). No checksum is published: pass ``known_hash``.
EMODB_URL = "http://emodb.bilderbar.info/download/download.zip"


def safe_extract(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Unpack a zip or tar archive into ``target``, refusing members that would escape it.

    Absolute paths, ``..`` components, and (tar) links or device files are
    refused before anything is written.

    Raises
    ------
    DataError
        Naming the archive and the offending member.

    Notebook: ``book/02_data.ipynb``.
    """
    import tarfile
    import zipfile

    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()

    def check(name: str) -> None:
        dest = (root / name).resolve()
        if name.startswith(("/", "\\")) or (dest != root and root not in dest.parents):
            raise DataError(f"{archive}: member {name!r} would be written outside {target}; refusing to extract")

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                check(info.filename)
            zf.extractall(root)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for mem in members:
                check(mem.name)
                if mem.issym() or mem.islnk() or mem.isdev():
                    raise DataError(f"{archive}: member {mem.name!r} is a link or device; refusing to extract")
            tf.extractall(root, members=members, filter="data")
    else:
        raise DataError(f"{archive}: not a zip or tar archive")
    return target


def fetch(
    url: str,
    known_hash: str | None,
    name: str,
    *,
    folder: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> Path:
    """Download an archive with pooch, check its hash, and unpack it safely (:func:`safe_extract`).

    Parameters
    ----------
    url : str
    known_hash : str
        ``"sha256:..."`` or ``"md5:..."`` (pooch format). ``None`` is refused:
        an unchecked download is never unpacked.
    name : str
        Sub-folder of ``folder`` to unpack into.
    folder : path, optional
        Default ``cache_dir() / "corpora"``.
    progress : bool, default True

    Returns
    -------
    Path
        The folder with the unpacked files (reused if it already exists).

    Notebook: ``book/02_data.ipynb``.
    """
    import pooch

    if not known_hash:
        raise DataError(
            f"{url}: no checksum to verify the download against; pass known_hash='sha256:...' "
            "(compute it from a copy you trust, e.g. `sha256sum FILE`)"
        )
    base = Path(folder) if folder is not None else cache_dir() / "corpora"
    target = base / name
    done = target / ".extracted"
    if done.is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    try:
        archive = pooch.retrieve(url, known_hash=known_hash, path=base, progressbar=progress)
    except ValueError as e:  # pooch raises ValueError on a hash mismatch
        raise DataError(f"{url}: {e}") from None
    except Exception as e:  # network errors (requests) and the like
        raise DataError(f"{url}: download failed ({type(e).__name__}: {e})") from None
    safe_extract(archive, target)
    done.touch()
    return target


def fetch_ravdess(folder: str | os.PathLike[str] | None = None, *, progress: bool = True) -> Path:
    """Download RAVDESS speech audio (Zenodo 1188976, 215 MB, CC BY-NC-SA 4.0) and unpack it.

    Checked against the MD5 that Zenodo publishes (:data:`RAVDESS_HASH`).
    Read it with ``load_corpus(fetch_ravdess())``.

    Returns
    -------
    Path
        Folder holding ``Actor_01`` ... ``Actor_24``.

    Notebook: ``book/02_data.ipynb``.
    """
    return fetch(RAVDESS_URL, RAVDESS_HASH, "ravdess", folder=folder, progress=progress)


def fetch_emodb(
    known_hash: str | None = None,
    folder: str | os.PathLike[str] | None = None,
    *,
    progress: bool = True,
) -> Path:
    """Download EmoDB (Berlin Database of Emotional Speech) and unpack it.

    The publisher gives no checksum for ``download.zip`` and sertools does not
    invent one: you must pass ``known_hash`` (``"sha256:..."`` of a copy you
    trust); without it a :class:`DataError` is raised before any download.

    Returns
    -------
    Path
        Folder holding ``wav/`` (read it with ``load_corpus(path / "wav")``).

    Notebook: ``book/02_data.ipynb``.
    """
    return fetch(EMODB_URL, known_hash, "emodb", folder=folder, progress=progress)
