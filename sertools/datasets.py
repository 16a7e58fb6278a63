"""Corpora: manifests, the synthetic corpus presets, real-corpus parsers and downloads.

Notebook: ``book/02_data.ipynb`` (chapter "Speech and emotion: the data").

(Initial version holding the shared constants; the data issue completes it.)
"""

from __future__ import annotations

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
