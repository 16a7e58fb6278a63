"""Shared pytest fixtures.

The synthetic corpus presets are generated once into the sertools cache
(``$SERTOOLS_CACHE``, set by the Makefile to ``.cache/sertools``) and reused by
every test and notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder."""
    return REPO


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed random generator for one test."""
    return np.random.default_rng(1234)
