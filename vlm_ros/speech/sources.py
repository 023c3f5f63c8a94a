"""Audio sources that yield AudioChunks: a WAV file and a PortAudio microphone.

(The third source, the AudioData topic, lives in speech_node: it is a ROS subscription.)
sounddevice is imported only when a microphone is opened, so machines without PortAudio
can still recognise WAV files and topics.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import InputError
from vlm_ros.speech.audio import AudioChunk, read_wav


class AudioDeviceError(InputError):
    """No usable microphone: PortAudio missing, no input device, or the named one not found."""


def wav_chunks(path: str | Path, chunk_ms: int = 100, realtime: bool = False) -> Iterator[AudioChunk]:
    """The file in chunks, optionally at real-time pace (as a microphone would deliver them)."""
    return chunked(read_wav(path), chunk_ms, realtime)


def chunked(whole: AudioChunk, chunk_ms: int = 100, realtime: bool = False) -> Iterator[AudioChunk]:
    """A recording cut into chunks of `chunk_ms`, optionally delivered at real-time pace."""
    step = max(1, int(whole.sample_rate * chunk_ms / 1000))
    t0 = time.monotonic()
    for i in range(0, whole.samples.size, step):
        if realtime:
            time.sleep(max(0.0, t0 + i / whole.sample_rate - time.monotonic()))
        yield AudioChunk(whole.samples[i:i + step], whole.sample_rate)


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise AudioDeviceError(f"microphone input needs PortAudio and the sounddevice package ({exc}); "
                               f"on Debian/Ubuntu: apt-get install libportaudio2") from None
    return sounddevice


def list_input_devices() -> list[tuple[int, str, int]]:
    """(index, name, max input channels) of every device that can record."""
    sd = _sounddevice()
    return [(i, d["name"], int(d["max_input_channels"])) for i, d in enumerate(sd.query_devices())
            if d["max_input_channels"] > 0]


def resolve_device(device: str) -> int | None:
    """'' -> system default (None); '3' -> index 3; 'USB' -> first input device whose name contains it."""
    devices = list_input_devices()
    if not devices:
        raise AudioDeviceError("no audio input device found (is a microphone connected, and visible to "
                               "PortAudio/ALSA?)")
    if not device:
        return None
    if device.isdigit():
        if int(device) not in {i for i, _, _ in devices}:
            raise AudioDeviceError(f"audio input device {device} does not exist; inputs: "
                                   + "; ".join(f"{i}: {n}" for i, n, _ in devices))
        return int(device)
    for index, name, _ in devices:
        if device.lower() in name.lower():
            return index
    raise AudioDeviceError(f"no audio input device named like {device!r}; inputs: "
                           + "; ".join(f"{i}: {n}" for i, n, _ in devices))


class Microphone:
    """A PortAudio input stream; PortAudio's callback thread hands blocks over through a queue."""

    def __init__(self, device: str = "", sample_rate: int = 16000, chunk_ms: int = 100):
        self._sd = _sounddevice()
        self.device = resolve_device(device)
        self.sample_rate = int(sample_rate)
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=200)
        self.dropped = 0  # blocks lost because the consumer fell behind
        try:
            self._stream = self._sd.InputStream(
                device=self.device, channels=1, samplerate=self.sample_rate, dtype="float32",
                blocksize=max(1, int(self.sample_rate * chunk_ms / 1000)), callback=self._callback)
        except Exception as exc:  # PortAudioError and friends: report, do not crash the caller's thread
            raise AudioDeviceError(f"cannot open audio input {device or 'default'} at {sample_rate} Hz: {exc}") \
                from None

    def _callback(self, indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:
            self.dropped += 1

    def __enter__(self) -> Microphone:
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()

    def read(self, timeout: float = 0.5) -> AudioChunk | None:
        """The next block, or None if none arrived within `timeout` seconds."""
        try:
            return AudioChunk(self._queue.get(timeout=timeout), self.sample_rate)
        except queue.Empty:
            return None
