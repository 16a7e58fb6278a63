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
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sertools.errors import DataError

__all__ = [
    "EMOTIONS",
    "PRESETS",
    "cache_dir",
    "preset",
    "read_manifest",
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
