"""Tests of sertools.audio: every valid format loads to the right length and level,
every bad input raises AudioError naming the file and the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sertools.audio import info, load, normalize_level, peak_dbfs, rms_dbfs, save
from sertools.errors import AudioError


def _tone(sr: int, seconds: float = 0.5, freq: float = 440.0, amp: float = 0.5, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = amp * np.sin(2 * np.pi * freq * t)
    if channels == 1:
        return y
    return np.stack([y] * channels, axis=1)


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(y, dtype=np.float64) ** 2)))


# ---------------------------------------------------------------- valid files

WAV_SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
def test_wav_every_bit_depth_loads_at_the_right_level(tmp_path: Path, subtype: str) -> None:
    sr = 16000
    f = tmp_path / f"tone_{subtype}.wav"
    sf.write(f, _tone(sr), sr, subtype=subtype)
    assert info(f).subtype == subtype
    y, out_sr = load(f)
    assert out_sr == sr and y.dtype == np.float32 and y.ndim == 1
    assert len(y) == sr // 2
    tol = 0.02 if subtype == "PCM_U8" else 1e-3
    assert _rms(y) == pytest.approx(0.5 / np.sqrt(2), rel=tol)


@pytest.mark.parametrize(("ext", "subtype"), [(".flac", "PCM_16"), (".flac", "PCM_24"), (".ogg", "VORBIS")])
def test_flac_and_ogg(tmp_path: Path, ext: str, subtype: str) -> None:
    sr = 16000
    f = tmp_path / f"tone{ext}"
    sf.write(f, _tone(sr), sr, subtype=subtype)
    y, out_sr = load(f)
    assert out_sr == sr and len(y) == sr // 2
    mid = y[1000:-1000]  # lossy codecs: compare the level away from the edges
    assert _rms(mid) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_channels_are_averaged_to_mono(tmp_path: Path, channels: int) -> None:
    sr = 16000
    data = _tone(sr, channels=channels)
    if channels > 1:  # make channels differ: the mean of +x and -x in two channels is 0
        data[:, 1] *= -1.0
    f = tmp_path / "multi.wav"
    sf.write(f, data, sr, subtype="FLOAT")
    y, _ = load(f)
    expected = data.mean(axis=1) if channels > 1 else data
    np.testing.assert_allclose(y, expected, atol=1e-6)


@pytest.mark.parametrize("file_sr", [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000])
def test_every_rate_resamples_to_16k_with_length_and_level(tmp_path: Path, file_sr: int) -> None:
    f = tmp_path / f"tone_{file_sr}.wav"
    sf.write(f, _tone(file_sr, seconds=1.0, freq=1000.0), file_sr, subtype="PCM_16")
    y, sr = load(f, sr=16000)
    assert sr == 16000
    assert abs(len(y) - 16000) <= 1
    assert _rms(y[800:-800]) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    y_native, sr_native = load(f, sr=None)
    assert sr_native == file_sr and len(y_native) == file_sr


def test_silence_and_very_short_clips_load(tmp_path: Path) -> None:
    f = tmp_path / "silence.wav"
    sf.write(f, np.zeros(16000), 16000)
    y, _ = load(f)
    assert len(y) == 16000 and not np.any(y)
    g = tmp_path / "short.wav"
    sf.write(g, _tone(16000, seconds=0.01), 16000)  # 160 samples < one 2048-sample frame
    y, _ = load(g)
    assert len(y) == 160 and np.all(np.isfinite(y))
    h = tmp_path / "one.wav"
    sf.write(h, np.array([0.25]), 16000, subtype="FLOAT")
    assert load(h)[0].tolist() == [0.25]


# ---------------------------------------------------------------- bad inputs


def _assert_audio_error(path: Path, reason: str) -> None:
    with pytest.raises(AudioError) as exc:
        load(path)
    msg = str(exc.value)
    assert str(path) in msg, msg
    assert reason in msg.lower(), msg
    assert isinstance(exc.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    _assert_audio_error(tmp_path / "nope.wav", "no such file")


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "folder.wav"
    d.mkdir()
    _assert_audio_error(d, "directory")


def test_text_file_renamed_wav(tmp_path: Path) -> None:
    f = tmp_path / "notes.wav"
    f.write_text("this is not audio at all\n" * 20)
    _assert_audio_error(f, "not an audio file")


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.wav"
    f.write_bytes(b"")
    _assert_audio_error(f, "empty file")


@pytest.mark.parametrize("cut", [12, 20, 30])
def test_truncated_header(tmp_path: Path, cut: int) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _tone(16000), 16000, subtype="PCM_16")
    f = tmp_path / f"cut{cut}.wav"
    f.write_bytes(good.read_bytes()[:cut])
    _assert_audio_error(f, "truncated")


def test_truncated_data(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _tone(16000), 16000, subtype="PCM_16")
    f = tmp_path / "halfdata.wav"
    f.write_bytes(good.read_bytes()[:5000])
    _assert_audio_error(f, "truncated")


@pytest.mark.parametrize("ext", ["flac", "ogg"])
@pytest.mark.parametrize("fraction", [0.02, 0.5])
def test_truncated_flac_and_ogg(tmp_path: Path, ext: str, fraction: float) -> None:
    good = tmp_path / f"good.{ext}"
    sf.write(good, _tone(16000, seconds=1.0), 16000)
    raw = good.read_bytes()
    f = tmp_path / f"cut.{ext}"
    f.write_bytes(raw[: int(len(raw) * fraction)])
    with pytest.raises(AudioError) as exc:
        load(f)
    msg = str(exc.value).lower()
    assert str(f) in str(exc.value) and ("corrupt" in msg or "truncated" in msg), msg


def test_corrupt_header_zero_channels(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _tone(16000), 16000, subtype="PCM_16")
    raw = bytearray(good.read_bytes())
    raw[22:24] = (0).to_bytes(2, "little")  # fmt chunk: number of channels
    f = tmp_path / "zero_channels.wav"
    f.write_bytes(bytes(raw))
    _assert_audio_error(f, "corrupt header")


def test_unsupported_wav_codec(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _tone(16000), 16000, subtype="PCM_16")
    raw = bytearray(good.read_bytes())
    raw[20:22] = (0x0055).to_bytes(2, "little")  # fmt tag: MPEG layer 3 inside WAV
    f = tmp_path / "mp3_in_wav.wav"
    f.write_bytes(bytes(raw))
    _assert_audio_error(f, "unsupported format")


def test_unsupported_container_extension(tmp_path: Path) -> None:
    f = tmp_path / "phone.m4a"
    f.write_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 100)
    _assert_audio_error(f, "unsupported format")


def test_zero_samples(tmp_path: Path) -> None:
    f = tmp_path / "zero.wav"
    sf.write(f, np.zeros((0, 1)), 16000)
    _assert_audio_error(f, "zero samples")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path: Path, value: float) -> None:
    y = _tone(16000)
    y[100] = value
    f = tmp_path / "nonfinite.wav"
    sf.write(f, y, 16000, subtype="FLOAT")
    _assert_audio_error(f, "nan or infinite")


@pytest.mark.parametrize("bad_sr", [0, -8000, 16000.5, True])
def test_bad_target_rate(tmp_path: Path, bad_sr: object) -> None:
    f = tmp_path / "ok.wav"
    sf.write(f, _tone(16000), 16000)
    with pytest.raises(AudioError, match="sr"):
        load(f, sr=bad_sr)  # type: ignore[arg-type]


# ---------------------------------------------------------------- save and levels


@pytest.mark.parametrize(("name", "subtype"), [("a.wav", "PCM_16"), ("a.wav", "FLOAT"), ("a.flac", "PCM_24"), ("a.ogg", "PCM_16")])
def test_save_round_trip(tmp_path: Path, name: str, subtype: str) -> None:
    y = _tone(16000).astype(np.float32)
    p = save(tmp_path / "sub" / name, y, 16000, subtype=subtype)
    back, sr = load(p)
    assert sr == 16000 and len(back) == len(y)
    tol = 0.05 if name.endswith(".ogg") else 1e-3
    assert np.max(np.abs(back[500:-500] - y[500:-500])) < tol


def test_save_refuses_nan_and_empty(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="NaN"):
        save(tmp_path / "x.wav", np.array([0.0, np.nan]), 16000)
    with pytest.raises(AudioError, match="non-empty"):
        save(tmp_path / "x.wav", np.zeros(0), 16000)


@pytest.mark.parametrize("target", [-30.0, -20.0, -6.0])
def test_normalize_rms_and_peak(target: float) -> None:
    y = _tone(16000, amp=0.1).astype(np.float32)
    out = normalize_level(y, target, mode="rms")
    assert out.dtype == np.float32
    assert rms_dbfs(out) == pytest.approx(target, abs=0.01)
    out = normalize_level(y, target, mode="peak")
    assert peak_dbfs(out) == pytest.approx(target, abs=0.01)


def test_levels_of_known_signals_and_silence() -> None:
    assert rms_dbfs(_tone(16000, amp=1.0)) == pytest.approx(-3.01, abs=0.01)
    assert peak_dbfs(np.full(10, 0.5)) == pytest.approx(-6.02, abs=0.01)
    silence = np.zeros(100, dtype=np.float32)
    out = normalize_level(silence, -20.0)
    assert np.all(out == 0) and rms_dbfs(out) == -200.0


def test_normalize_bad_arguments() -> None:
    with pytest.raises(AudioError, match="mode"):
        normalize_level(np.ones(4), -20.0, mode="loudness")
    with pytest.raises(AudioError, match="target_dbfs"):
        normalize_level(np.ones(4), 3.0, mode="peak")


@pytest.mark.parametrize("kind", ["silence", "short", "short_silence"])
def test_silent_and_short_files_give_finite_features(tmp_path: Path, kind: str) -> None:
    """What load returns for silence and sub-frame clips must not make MFCCs NaN downstream."""
    from sertools.features import functionals, mfcc

    data = {"silence": np.zeros(16000), "short": _tone(16000, seconds=0.01), "short_silence": np.zeros(100)}[kind]
    f = tmp_path / f"{kind}.wav"
    sf.write(f, data, 16000)
    y, sr = load(f)
    m = mfcc(y=y, sr=sr)
    assert m.shape[0] == 20 and m.shape[1] >= 1 and np.all(np.isfinite(m))
    assert np.all(np.isfinite(functionals(y, sr)))


def test_load_resamples_through_preprocess_resample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One resampler for the whole package: load must call sertools.preprocess.resample."""
    import sertools.preprocess

    calls: list[tuple[int, int]] = []
    real = sertools.preprocess.resample

    def spy(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
        calls.append((orig_sr, target_sr))
        return real(y, orig_sr, target_sr)

    monkeypatch.setattr(sertools.preprocess, "resample", spy)
    f = tmp_path / "a.wav"
    sf.write(f, _tone(44100), 44100)
    y, sr = load(f, sr=16000)
    assert calls == [(44100, 16000)] and sr == 16000
    load(f, sr=44100)  # same rate: no resampling
    assert len(calls) == 1
