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


# --- features, padding, crops ------------------------------------------------

from sertools.training import (  # noqa: E402
    class_weights,
    crops,
    extract_features,
    pad_sequences,
)


def _tone(f0: float, seconds: float = 0.5, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def test_feature_config_extract_shapes() -> None:
    y = _tone(200)
    mel = FeatureConfig(kind="logmel", n_mels=24, hop_length=160).extract(y, 16000)
    assert mel.shape == (1 + len(y) // 160, 24) and mel.dtype == np.float32
    mf = FeatureConfig(kind="mfcc", n_mfcc=13, n_mels=24, deltas=2, pitch=True).extract(y, 16000)
    assert mf.shape == (mel.shape[0], 13 * 3 + 2)
    # pitch row: a 200 Hz tone is 12*log2(2) = 12 semitones above 100 Hz where voiced
    voiced = mf[:, -1] > 0
    assert voiced.mean() > 0.8 and np.allclose(mf[voiced, -2], 12.0, atol=0.3)
    fn = FeatureConfig(kind="functionals").extract(y, 16000)
    assert fn.ndim == 1 and np.all(np.isfinite(fn))
    # another input rate is resampled to the configured one
    assert FeatureConfig(kind="logmel", n_mels=24).extract(_tone(200, sr=8000), 8000).shape == mel.shape
    with pytest.raises(DataError, match="NaN"):
        FeatureConfig().extract(np.array([0.0, np.nan], np.float32), 16000)


def test_extract_features_caches_on_disk(tmp_path, monkeypatch) -> None:
    from sertools.audio import save

    monkeypatch.setenv("SERTOOLS_CACHE", str(tmp_path / "cache"))
    paths = [str(save(tmp_path / f"{i}.wav", _tone(150 + 50 * i), 16000)) for i in range(5)]
    cfg = FeatureConfig(kind="logmel", n_mels=16)
    first = extract_features(paths, cfg, progress=False)
    cached = list((tmp_path / "cache" / "features").rglob("*.npy"))
    assert len(cached) == 5
    again = extract_features(pd.DataFrame({"path": paths}), cfg, progress=False, n_jobs=1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    # a changed file is recomputed (the key holds its modification time and size)
    save(paths[0], _tone(400, 0.7), 16000)
    assert extract_features(paths[:1], cfg, progress=False)[0].shape[0] != first[0].shape[0]


def test_pad_sequences_and_crops(rng: np.random.Generator) -> None:
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (5, 9)]
    b = pad_sequences(seqs)
    assert b.shape == (2, 9, 3) and np.all(b[0, 5:] == 0) and np.array_equal(b[1], seqs[1])
    assert pad_sequences(seqs, 4, mode="center")[1].tolist() == seqs[1][2:6].tolist()
    c = crops(rng.normal(size=(10, 2)), 4)
    assert c.shape[1:] == (4, 2) and len(c) == 4  # starts 0, 2, 4, 6
    assert crops(rng.normal(size=(3, 2)), 4).shape == (1, 4, 2)


def test_class_weights_balance_the_classes() -> None:
    w = class_weights([0, 0, 0, 1], 3)
    assert w[0] * 3 == pytest.approx(w[1] * 1) and w[2] == 0.0


# --- Keras training ----------------------------------------------------------


def test_train_model_selects_on_validation_and_learns(rng: np.random.Generator) -> None:
    from sertools import models
    from sertools.training import set_seed, train_model

    set_seed(0)
    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        X = rng.normal(size=(n, 6)).astype(np.float32)
        X[np.arange(n), y] += 3.0  # class c lifts feature c
        return X, y
    Xtr, ytr = make(150)
    Xva, yva = make(60)
    net = models.mlp((6,), 3, hidden=(16,))
    hist = train_model(net, Xtr, ytr, Xva, yva, epochs=8, patience=3, learning_rate=1e-2,
                       monitor={"extra": (Xva, yva)}, progress=False)
    assert 1 <= hist["best_epoch"] <= len(hist["val_uar"]) <= 8
    assert hist["best_val_uar"] == max(hist["val_uar"]) > 0.8
    assert len(hist["extra_uar"]) == len(hist["val_uar"])
    # the restored weights are the best epoch's
    from sertools.evaluation import uar
    from sertools.training import predict_proba

    assert uar(yva, predict_proba(net, Xva).argmax(1)) == pytest.approx(hist["best_val_uar"])


def test_sequence_dataset_crops_and_shards(tmp_path, rng: np.random.Generator) -> None:
    from sertools.training import make_dataset, shard_dataset, write_shards

    X = pad_sequences([rng.normal(size=(n, 4)).astype(np.float32) + 1 for n in (30, 50, 12)])
    ds = make_dataset(X, np.array([0, 1, 2]), batch_size=2, shuffle=True, crop_frames=20,
                      lengths=np.array([30, 50, 12]), augment=True)
    shapes = [tuple(x.shape) for x, _ in ds]
    assert shapes == [(2, 20, 4), (1, 20, 4)]
    shards = write_shards([X[i, :20] for i in range(3)], [0, 1, 2], tmp_path, shard_size=2)
    assert len(shards) == 2
    got = sorted(int(v) for _, yb in shard_dataset(shards, batch_size=2) for v in np.asarray(yb))
    assert got == [0, 1, 2]


def test_train_carves_validation_speakers_from_an_official_train_test_split(tmp_path) -> None:
    from sertools.synth import write_corpus
    from sertools.training import train

    folder = tmp_path / "c"
    write_corpus(folder, n_speakers=6, n_utterances=1, emotions=["neutral", "angry"], seed=1, progress=False)
    df = pd.read_csv(folder / "manifest.csv")
    df["path"] = [str(folder / p) for p in df["path"]]
    df["split"] = np.where(df["speaker"].isin(sorted(df["speaker"].unique())[:2]), "test", "train")
    res = train(df, model="svm", progress=False)
    sp = res.metrics["split"]
    assert sp["test_speakers"] == sorted(df["speaker"].unique())[:2]
    assert len(sp["val_speakers"]) == 1 and not set(sp["val_speakers"]) & set(sp["train_speakers"])
