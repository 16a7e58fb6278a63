"""Exceptions raised by sertools.

All of them derive from :class:`SertoolsError`, so the command line can turn
any of them into one ``sertools: error: ...`` line. Each message names the
file (or the argument) and the reason.
"""

from __future__ import annotations


class SertoolsError(Exception):
    """Base class of every error that sertools raises on purpose."""


class AudioError(SertoolsError, ValueError):
    """An audio file cannot be used: missing, not audio, corrupt, empty or non-finite.

    Notebook: ``book/03_signal_processing.ipynb``.
    """


class DataError(SertoolsError, ValueError):
    """A manifest or corpus folder is invalid (missing columns, unknown labels, bad rows...).

    Notebook: ``book/02_data.ipynb``.
    """


class BundleError(SertoolsError, ValueError):
    """A saved model artifact is missing files, corrupt, or of another format version.

    Notebook: ``book/09_project.ipynb``.
    """
