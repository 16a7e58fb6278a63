"""Tests of manifests, presets, real-corpus parsers and safe downloads (sertools.datasets)."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sertools import DataError, datasets
from sertools.datasets import EMOTIONS


def _wav(path: Path, seconds: float = 0.05, sr: int = 8000) -> Path:
    """A short generated WAV (noise) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    sf.write(str(path), 0.1 * rng.standard_normal(int(seconds * sr)).astype(np.float32), sr, subtype="PCM_16")
    return path


# --- presets ------------------------------------------------------------------------


def test_small_preset_is_cached_balanced_and_readable() -> None:
    folder = datasets.preset("small")
    assert datasets.preset("small") == folder  # reused, not regenerated
    df = datasets.read_manifest(folder)
    assert set(df.emotion) == set(EMOTIONS)
    spk = df.groupby("speaker").gender.first()
    assert len(spk) == 8 and (spk == "female").sum() == 4 and (spk == "male").sum() == 4
    assert (df.groupby(["speaker", "emotion"]).size() == 3).all()
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in df.path)
    info = sf.info(df.path[0])
    assert info.samplerate == 16000 and info.subtype == "PCM_16"
    assert 1.0 < info.duration < 6.0


def test_unknown_preset_is_a_data_error() -> None:
    with pytest.raises(DataError, match="preset"):
        datasets.preset("huge")


def test_concurrent_first_use_generates_once(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sertools.datasets as d
        d.PRESETS["small"] = {"n_speakers": 1, "n_utterances": 1, "seed": 0, "sr": 8000}
        print(d.preset("small", progress=False))
        """
    )
    env = {"SERTOOLS_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    folders = {o[0].strip() for o in outs}
    assert len(folders) == 1
    folder = Path(folders.pop())
    assert folder.parent == tmp_path and folder.name.startswith("synth-small-v")
    assert len(datasets.read_manifest(folder)) == len(EMOTIONS)
    assert not list(tmp_path.glob(".tmp-*")), "temporary folders must be renamed or removed"


# --- read_manifest --------------------------------------------------------------------


def _manifest(folder: Path, text: str) -> Path:
    p = folder / "manifest.csv"
    p.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return p


def test_read_manifest_valid_relative_paths_and_defaults(tmp_path: Path) -> None:
    _wav(tmp_path / "a" / "1.wav")
    _wav(tmp_path / "b.wav")
    _manifest(
        tmp_path,
        """
        path,emotion,speaker,split
        a/1.wav,sad,0007,train
        b.wav,angry,0008,test
        """,
    )
    df = datasets.read_manifest(tmp_path)
    assert list(df.columns[:6]) == ["path", "emotion", "speaker", "gender", "corpus", "split"]
    assert df.path[0] == str((tmp_path / "a" / "1.wav").resolve())
    assert df.speaker.tolist() == ["0007", "0008"]  # speakers stay strings
    assert df.gender.tolist() == ["unknown", "unknown"]
    assert (df.corpus == tmp_path.name).all()
    pd.testing.assert_frame_equal(df, datasets.read_manifest(tmp_path / "manifest.csv"))


def test_read_manifest_missing_columns(tmp_path: Path) -> None:
    _manifest(tmp_path, "file,label\nx.wav,sad\n")
    with pytest.raises(DataError, match=r"missing column\(s\) path, emotion, speaker"):
        datasets.read_manifest(tmp_path)


def test_read_manifest_reports_every_bad_row_in_one_error(tmp_path: Path) -> None:
    _wav(tmp_path / "ok.wav")
    _wav(tmp_path / "ok2.wav")
    (tmp_path / "text.wav").write_text("not audio")
    _manifest(
        tmp_path,
        """
        path,emotion,speaker,split
        ok.wav,sad,s1,train
        ok.wav,sad,s1,train
        gone.wav,happy,s2,train
        text.wav,angry,s3,val
        ok2.wav,joyful,s4,test
        ok2.wav,calm,,holdout
        """,
    )
    with pytest.raises(DataError) as err:
        datasets.read_manifest(tmp_path)
    msg = str(err.value)
    assert "5 bad row(s)" in msg
    assert "line 3: duplicate of line 2" in msg
    assert "line 4: file not found: gone.wav" in msg
    assert "line 5: unreadable audio text.wav" in msg
    assert "line 6: unknown emotion 'joyful'" in msg
    assert "line 7:" in msg and "empty speaker" in msg and "split 'holdout'" in msg
    assert "line 2:" not in msg.replace("duplicate of line 2", "")


def test_read_manifest_missing_file_and_empty(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such manifest"):
        datasets.read_manifest(tmp_path)
    _manifest(tmp_path, "path,emotion,speaker\n")
    with pytest.raises(DataError, match="no rows"):
        datasets.read_manifest(tmp_path)


# --- real corpora --------------------------------------------------------------------


@pytest.fixture
def ravdess(tmp_path: Path) -> Path:
    root = tmp_path / "ravdess"
    for name in [
        "Actor_01/03-01-05-02-01-01-01.wav",  # angry, strong, actor 1 (male)
        "Actor_02/03-01-01-01-02-02-02.wav",  # neutral, actor 2 (female)
        "Actor_02/03-01-08-01-01-01-02.wav",  # surprised
        "Actor_02/03-02-03-01-01-01-02.wav",  # song: skipped by default
        "Actor_02/03-01-01-02-01-01-02.wav",  # neutral has no strong intensity: malformed
        "Actor_02/03-01-09-01-01-01-02.wav",  # emotion 09: malformed
        "Actor_02/notes.wav",  # malformed
    ]:
        _wav(root / name)
    (root / "readme.txt").write_text("not a wav")
    return root


def test_parse_ravdess(ravdess: Path) -> None:
    df = datasets.parse_ravdess(ravdess)
    assert sorted(df.emotion) == ["angry", "neutral", "surprised"]
    row = df[df.emotion == "angry"].iloc[0]
    assert (row.speaker, row.gender, row.intensity, row.corpus) == ("ravdess_01", "male", "strong", "ravdess")
    assert set(df[df.speaker == "ravdess_02"].gender) == {"female"}
    skipped = df.attrs["skipped"]
    assert len(skipped) == 4
    assert any("song" in s for s in skipped) and any("notes.wav" in s for s in skipped)
    assert any("emotion code 09" in s for s in skipped)
    assert len(datasets.parse_ravdess(ravdess, include_song=True)) == 4
    with pytest.raises(DataError, match="4 file"):
        datasets.parse_ravdess(ravdess, strict=True)


def test_parse_crema_d_with_and_without_demographics(tmp_path: Path) -> None:
    root = tmp_path / "AudioWAV"
    for name in ["1001_DFA_ANG_XX.wav", "1002_IEO_HAP_HI.wav", "1076_MTI_SAD_XX.wav", "1001_DFA_XYZ_XX.wav", "1001-DFA.wav"]:
        _wav(root / name)
    df = datasets.parse_crema_d(root)
    assert df.emotion.tolist() == ["angry", "happy"]
    assert (df.gender == "unknown").all()
    assert len(df.attrs["skipped"]) == 3
    assert any("silent" in s for s in df.attrs["skipped"])
    (tmp_path / "VideoDemographics.csv").write_text("ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n")
    df = datasets.parse_crema_d(root)  # found in the parent folder
    assert df.gender.tolist() == ["male", "female"]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,gender\n1,m\n")
    with pytest.raises(DataError, match="ActorID and Sex"):
        datasets.parse_crema_d(root, demographics=bad)


def test_parse_emodb_drops_boredom_unless_mapped(tmp_path: Path) -> None:
    root = tmp_path / "wav"
    for name in ["03a01Fa.wav", "08a02Wb.wav", "10b03La.wav", "11a01Xa.wav", "3a01Fa.wav"]:
        _wav(root / name)
    df = datasets.parse_emodb(root)
    assert df.emotion.tolist() == ["happy", "angry"]
    assert df.gender.tolist() == ["male", "female"]
    assert any("boredom" in s for s in df.attrs["skipped"]) and len(df.attrs["skipped"]) == 3
    df2 = datasets.parse_emodb(root, boredom="calm")
    assert "calm" in df2.emotion.tolist()
    with pytest.raises(DataError, match="boredom"):
        datasets.parse_emodb(root, boredom="bored")


def test_parse_tess_and_savee(tmp_path: Path) -> None:
    tess = tmp_path / "tess"
    for name in ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_dog_ps.wav", "YAF_fear/YAF_bean_Fear.wav", "OAF_back.wav"]:
        _wav(tess / name)
    df = datasets.parse_tess(tess)
    assert sorted(df.emotion) == ["angry", "fearful", "surprised"]
    assert (df.gender == "female").all() and set(df.speaker) == {"tess_OAF", "tess_YAF"}
    assert len(df.attrs["skipped"]) == 1

    savee = tmp_path / "savee"
    for name in ["DC/sa03.wav", "JE/su15.wav", "KL_a01.wav", "XX/n01.wav", "DC/zz01.wav"]:
        _wav(savee / name)
    df = datasets.parse_savee(savee)
    assert sorted(zip(df.speaker, df.emotion, strict=True)) == [
        ("savee_DC", "sad"),
        ("savee_JE", "surprised"),
        ("savee_KL", "angry"),
    ]
    assert (df.gender == "male").all() and len(df.attrs["skipped"]) == 2


def test_load_corpus_detects_the_corpus(ravdess: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="4 file"):
        df = datasets.load_corpus(ravdess)
    assert (df.corpus == "ravdess").all() and len(df) == 3
    assert datasets.detect_corpus(ravdess) == "ravdess"
    # a manifest folder
    _wav(tmp_path / "m" / "x.wav")
    _manifest(tmp_path / "m", "path,emotion,speaker\nx.wav,calm,a\n")
    assert datasets.load_corpus(tmp_path / "m").emotion.tolist() == ["calm"]
    # neither
    _wav(tmp_path / "other" / "hello.wav")
    with pytest.raises(DataError, match="not a recognised corpus"):
        datasets.load_corpus(tmp_path / "other")
    with pytest.raises(DataError, match="no such folder"):
        datasets.load_corpus(tmp_path / "nowhere")


# --- archives and downloads --------------------------------------------------------------


def test_safe_extract_refuses_members_that_escape(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("good/a.txt", "fine")
        zf.writestr("../escaped.txt", "gotcha")
    target = tmp_path / "out"
    with pytest.raises(DataError, match="outside"):
        datasets.safe_extract(evil, target)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (target / "good" / "a.txt").exists()  # nothing is written before the check

    absolute = tmp_path / "abs.zip"
    with zipfile.ZipFile(absolute, "w") as zf:
        zf.writestr("/etc/evil.txt", "gotcha")
    with pytest.raises(DataError, match="outside"):
        datasets.safe_extract(absolute, target)

    link = tmp_path / "link.tar"
    with tarfile.open(link, "w") as tf:
        info = tarfile.TarInfo("inside/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(DataError, match="link"):
        datasets.safe_extract(link, target)

    good = tmp_path / "good.tar"
    with tarfile.open(good, "w") as tf:
        data = b"hello"
        info = tarfile.TarInfo("d/hello.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    datasets.safe_extract(good, target)
    assert (target / "d" / "hello.txt").read_bytes() == b"hello"

    (tmp_path / "plain.bin").write_bytes(b"xx")
    with pytest.raises(DataError, match="not a zip or tar"):
        datasets.safe_extract(tmp_path / "plain.bin", target)


def test_fetch_needs_a_hash_and_checks_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pooch

    with pytest.raises(DataError, match="known_hash"):
        datasets.fetch_emodb(folder=tmp_path)
    archive = tmp_path / "src.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("wav/03a01Fa.wav", b"RIFF")
    calls = []

    def fake_retrieve(url: str, known_hash: str, path: Path, progressbar: bool) -> str:
        calls.append((url, known_hash))
        if known_hash != "sha256:good":
            raise ValueError("SHA256 hash of downloaded file does not match the known hash")
        return str(archive)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with pytest.raises(DataError, match="does not match"):
        datasets.fetch("https://example.org/x.zip", "sha256:bad", "x", folder=tmp_path / "c")
    out = datasets.fetch("https://example.org/x.zip", "sha256:good", "x", folder=tmp_path / "c")
    assert (out / "wav" / "03a01Fa.wav").is_file()
    datasets.fetch("https://example.org/x.zip", "sha256:good", "x", folder=tmp_path / "c")
    assert len(calls) == 2  # the second good call reuses the unpacked folder
    assert datasets.RAVDESS_HASH.startswith("md5:") and len(datasets.RAVDESS_HASH) == 36
