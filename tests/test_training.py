"""Tests of sertools.training: speaker-independent splits, normalisers, features, training."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sertools.errors import DataError, SertoolsError
from sertools.training import (
    FeatureConfig,
    GlobalNormalizer,
    SpeakerNormalizer,
    leave_one_speaker_out,
    speaker_kfold,
    speaker_split,
)


def _manifest(n_f: int = 6, n_m: int = 6, clips: int = 4) -> pd.DataFrame:
    rows = []
    for g, n in (("female", n_f), ("male", n_m)):
        for i in range(n):
            for c in range(clips):
                rows.append({"path": f"/x/{g}{i}_{c}.wav", "emotion": "neutral", "speaker": f"{g[0]}{i:02d}", "gender": g})
    return pd.DataFrame(rows)


def test_import_does_not_load_tensorflow() -> None:
    code = "import sys, sertools.training; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_speaker_split_whole_speakers_and_gender_balance() -> None:
    df = _manifest(6, 6)
    split = speaker_split(df, test_fraction=0.25, val_fraction=0.15, seed=3)
    assert set(split) == {"train", "val", "test"}
    per_speaker = pd.Series(split).groupby(df["speaker"].to_numpy()).nunique()
    assert (per_speaker == 1).all(), "a speaker is in two parts"
    test_spk = df.loc[split == "test"].drop_duplicates("speaker")
    assert len(test_spk) == 3
    # 3 test speakers out of 6 F + 6 M: as balanced as possible
    assert abs((test_spk["gender"] == "female").sum() - (test_spk["gender"] == "male").sum()) <= 1
    assert df.loc[split == "val", "speaker"].nunique() == 2


def test_speaker_split_is_deterministic_and_seed_dependent() -> None:
    df = _manifest(8, 8)
    a = speaker_split(df, seed=0)
    assert np.array_equal(a, speaker_split(df, seed=0))
    assert any(not np.array_equal(a, speaker_split(df, seed=s)) for s in range(1, 5))


def test_speaker_split_honours_split_column_and_checks_it() -> None:
    df = _manifest(2, 2)
    df["split"] = np.where(df["speaker"] == "f00", "test", "train")
    assert np.array_equal(speaker_split(df), df["split"].to_numpy())
    df.loc[0, "split"] = "validation"
    with pytest.raises(DataError, match="split"):
        speaker_split(df)


def test_speaker_split_too_few_speakers() -> None:
    with pytest.raises(DataError, match="too few"):
        speaker_split(_manifest(1, 1))
    with pytest.raises(DataError, match="speaker"):
        speaker_split(pd.DataFrame({"path": ["a.wav"]}))


def test_speaker_kfold_covers_each_speaker_once() -> None:
    df = _manifest(5, 5)
    folds = speaker_kfold(df, k=5, seed=1)
    assert len(folds) == 5
    seen = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(seen), np.arange(len(df)))
    for tr, te in folds:
        assert not set(df["speaker"].iloc[tr]) & set(df["speaker"].iloc[te])
        assert df["speaker"].iloc[te].nunique() == 2
    with pytest.raises(DataError):
        speaker_kfold(df, k=11)


def test_leave_one_speaker_out() -> None:
    df = _manifest(2, 3)
    folds = leave_one_speaker_out(df)
    assert len(folds) == 5
    for (tr, te), spk in zip(folds, sorted(df["speaker"].unique()), strict=True):
        assert set(df["speaker"].iloc[te]) == {spk}
        assert spk not in set(df["speaker"].iloc[tr])


def test_global_normalizer_uses_training_statistics(rng: np.random.Generator) -> None:
    train = rng.normal(5.0, 2.0, size=(500, 3))
    test = rng.normal(-1.0, 0.5, size=(50, 3))
    norm = GlobalNormalizer().fit(train)
    z = norm.transform(train)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-5) and np.allclose(z.std(axis=0), 1, atol=1e-4)
    # the test set keeps its own offset: it is NOT re-centred with its own statistics
    assert np.all(norm.transform(test).mean(axis=0) < -2.0)
    restored = GlobalNormalizer.from_dict(norm.to_dict())
    assert np.allclose(restored.transform(test), norm.transform(test))


def test_global_normalizer_on_frame_sequences(rng: np.random.Generator) -> None:
    seqs = [rng.normal(3.0, 4.0, size=(n, 2)) for n in (10, 50, 200)]
    out = GlobalNormalizer().fit_transform(seqs)
    assert isinstance(out, list) and [a.shape for a in out] == [a.shape for a in seqs]
    allf = np.concatenate(out)
    assert np.allclose(allf.mean(axis=0), 0, atol=1e-5)


def test_normalizer_errors(rng: np.random.Generator) -> None:
    with pytest.raises(SertoolsError, match="fit"):
        GlobalNormalizer().transform(rng.normal(size=(3, 2)))
    norm = GlobalNormalizer().fit(rng.normal(size=(10, 2)))
    with pytest.raises(DataError, match="features"):
        norm.transform(rng.normal(size=(3, 4)))
    with pytest.raises(DataError, match="NaN"):
        GlobalNormalizer().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    # a constant feature is not divided by zero
    z = GlobalNormalizer().fit_transform(np.ones((5, 2)))
    assert np.all(np.isfinite(z))


def test_speaker_normalizer(rng: np.random.Generator) -> None:
    X = np.concatenate([rng.normal(0, 1, size=(20, 2)), rng.normal(10, 3, size=(20, 2))])
    spk = ["a"] * 20 + ["b"] * 20
    norm = SpeakerNormalizer().fit(X, spk)
    z = norm.transform(X, spk)
    assert np.allclose(z[20:].mean(axis=0), 0, atol=1e-5)
    # an unseen speaker is normalised with its own clips (no labels used) ...
    new = rng.normal(-7, 2, size=(10, 2))
    assert np.allclose(norm.transform(new, ["c"] * 10).mean(axis=0), 0, atol=1e-5)
    # ... or with the global training statistics when adapt=False
    assert np.all(norm.transform(new, ["c"] * 10, adapt=False).mean(axis=0) < -1.5)
    with pytest.raises(DataError, match="speakers"):
        norm.transform(new, ["c"])


def test_feature_config_validation_and_roundtrip() -> None:
    cfg = FeatureConfig(kind="mfcc", n_mfcc=13, deltas=2)
    assert cfg.n_features == 39
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.key() != FeatureConfig(kind="mfcc", n_mfcc=14, deltas=2).key()
    with pytest.raises(DataError, match="kind"):
        FeatureConfig(kind="wavelets")
    with pytest.raises(DataError, match="hop_length"):
        FeatureConfig(hop_length=0)
    with pytest.raises(DataError, match="unknown"):
        FeatureConfig.from_dict({"kind": "mfcc", "colour": "red"})
