"""Endpointing: cut a continuous stream into speech segments, one per spoken command.

A frame classifier (energy above an adaptive noise floor, or WebRTC-style VAD from
pocketsphinx) says speech / not speech every `frame_ms`; a hysteresis state machine turns
that into segments: `start_ms` of speech opens one (with `pre_roll_ms` of audio before it,
so the first phone is not clipped), `end_silence_ms` of silence closes it. Recognisers then
see whole utterances, which is what a command grammar needs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from vlm_ros.speech.audio import level_dbfs, resample
from vlm_ros.speech.config import EndpointConfig


@dataclass
class SpeechSegment:
    """One utterance cut from the stream."""

    samples: np.ndarray  # [N] float32 mono, at sample_rate
    sample_rate: int  # [Hz]
    start_s: float  # stream time of the first sample [s]
    end_s: float  # stream time after the last sample [s]
    truncated: bool = False  # closed by max_speech_s rather than by silence
    noise: np.ndarray | None = None  # [M] recent non-speech audio before it (the room's noise), for suppression


class EnergyClassifier:
    """Speech = frame level `threshold_db` above a tracked noise floor and above `min_level_dbfs`.

    The floor starts at a quiet room's level (`min_level_dbfs` - `threshold_db`), not at the
    first frame: a stream that starts with speech would otherwise take the speech as its noise
    floor and lose the command. It falls fast (a quiet pause re-arms it at once) and rises
    slowly (a long utterance barely lifts it; a fan switched on is learned within seconds, so in
    a loud room the first utterance after start-up may carry some noise before it). A faster
    rise at start-up was tried: it cut commands spoken at once, since it cannot tell speech
    from noise; the silero VAD can.
    """

    RISE = 0.01  # fraction of the gap closed per frame when the level is above the floor
    FALL = 0.3  # ... and when it is below

    def __init__(self, config: EndpointConfig):
        self.threshold_db = config.threshold_db
        self.min_level_dbfs = config.min_level_dbfs
        self.floor_db = config.min_level_dbfs - config.threshold_db

    def is_speech(self, frame: np.ndarray, sample_rate: int) -> bool:
        level = level_dbfs(frame)
        speech = level >= self.min_level_dbfs and level - self.floor_db >= self.threshold_db
        rate = self.RISE if level > self.floor_db else self.FALL
        self.floor_db += rate * (level - self.floor_db)
        return speech


class SileroClassifier:
    """Silero's neural VAD (silero.py): speech probability per 32 ms window, at 16 kHz.

    Frames are buffered into the model's 512-sample windows; a frame takes the probability of
    the latest window that ended in it (windows and frames are both ~30 ms).
    """

    def __init__(self, config: EndpointConfig):
        from vlm_ros.speech.silero import RATE, WINDOW, SileroVad

        self.vad, self.rate, self.window = SileroVad(), RATE, WINDOW
        self.threshold = config.vad_threshold
        self.min_level_dbfs = config.min_level_dbfs
        self._buffer = np.zeros(0, np.float32)
        self._probability = 0.0

    def is_speech(self, frame: np.ndarray, sample_rate: int) -> bool:
        pcm = frame if sample_rate == self.rate else resample(frame, sample_rate, self.rate)
        self._buffer = np.concatenate([self._buffer, pcm.astype(np.float32, copy=False)])
        while self._buffer.size >= self.window:
            self._probability = self.vad.probability(np.clip(self._buffer[:self.window], -1.0, 1.0))
            self._buffer = self._buffer[self.window:]
        return self._probability >= self.threshold and level_dbfs(frame) >= self.min_level_dbfs


class VadClassifier:
    """pocketsphinx's WebRTC-derived VAD (more robust to loud non-speech noise than energy)."""

    RATE = 16000  # the VAD's native rate; frames are resampled to it

    def __init__(self, config: EndpointConfig):
        from pocketsphinx import Vad  # lazy: the energy method needs no pocketsphinx

        self.vad = Vad(mode=config.vad_mode, sample_rate=self.RATE, frame_length=config.frame_ms / 1000.0)
        self.min_level_dbfs = config.min_level_dbfs

    def is_speech(self, frame: np.ndarray, sample_rate: int) -> bool:
        if level_dbfs(frame) < self.min_level_dbfs:
            return False
        pcm = resample(frame, sample_rate, self.RATE)
        need = self.vad.frame_bytes // 2
        pcm = np.pad(pcm, (0, max(0, need - pcm.size)))[:need]
        return bool(self.vad.is_speech((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes()))


def make_classifier(config: EndpointConfig) -> EnergyClassifier | VadClassifier | SileroClassifier:
    if config.vad == "silero":
        return SileroClassifier(config)
    if config.vad == "energy":
        return EnergyClassifier(config)
    if config.vad == "webrtc":
        return VadClassifier(config)
    raise ValueError(f"speech detector {config.vad!r} is unknown (use 'silero', 'energy' or 'webrtc')")


class Endpointer:
    """Feed chunks of any size; get back the segments they complete."""

    NOISE_S = 1.5  # non-speech audio kept as the noise profile of the next segment [s]

    def __init__(self, config: EndpointConfig, sample_rate: int):
        self.config = config
        self.sample_rate = int(sample_rate)
        self.frame_len = max(1, round(sample_rate * config.frame_ms / 1000.0))
        self.classifier = make_classifier(config)
        ms = config.frame_ms
        self._start_frames = max(1, round(config.start_ms / ms))
        self._end_frames = max(1, round(config.end_silence_ms / ms))
        self._min_frames = max(1, round(config.min_speech_ms / ms))
        self._max_frames = max(self._start_frames + 1, round(config.max_speech_s * 1000.0 / ms))
        self._keep_after = min(self._end_frames, max(1, round(config.post_roll_ms / ms)))
        self._pre_roll: deque[np.ndarray] = deque(maxlen=max(1, round(config.pre_roll_ms / ms)) + self._start_frames)
        self._noise: deque[np.ndarray] = deque(maxlen=max(1, round(self.NOISE_S * 1000.0 / ms)))
        self._pending = np.zeros(0, np.float32)
        self._frames_seen = 0  # frames classified so far (stream clock)
        self._speech_run = 0  # consecutive speech frames while idle
        self._segment: list[np.ndarray] | None = None  # frames of the open segment
        self._segment_start = 0  # frame index of its first frame
        self._last_speech = 0  # index within the segment of its last speech frame
        self._speech_frames = 0
        self._noise_profile = np.zeros(0, np.float32)

    @property
    def in_speech(self) -> bool:
        return self._segment is not None

    @property
    def seconds_seen(self) -> float:
        """Stream time classified so far [s]."""
        return self._frames_seen * self.frame_len / self.sample_rate

    def feed(self, samples: np.ndarray) -> list[SpeechSegment]:
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        segments: list[SpeechSegment] = []
        n_frames = self._pending.size // self.frame_len
        for i in range(n_frames):
            frame = self._pending[i * self.frame_len:(i + 1) * self.frame_len]
            segment = self._step(frame)
            if segment is not None:
                segments.append(segment)
        self._pending = self._pending[n_frames * self.frame_len:].copy()
        return segments

    def flush(self) -> list[SpeechSegment]:
        """End of stream: close an open segment (if long enough) and reset."""
        segment = self._close(truncated=False) if self._segment is not None else None
        self._pending = np.zeros(0, np.float32)
        self._pre_roll.clear()
        self._speech_run = 0
        return [segment] if segment is not None else []

    def _step(self, frame: np.ndarray) -> SpeechSegment | None:
        speech = self.classifier.is_speech(frame, self.sample_rate)
        self._frames_seen += 1
        if self._segment is None:
            self._pre_roll.append(frame)
            if not speech:
                self._noise.append(frame)
            self._speech_run = self._speech_run + 1 if speech else 0
            if self._speech_run >= self._start_frames:
                quiet = list(self._noise)[:-3]  # the frames just before the onset may hold its soft start
                self._noise_profile = np.concatenate(quiet) if quiet else np.zeros(0, np.float32)
                self._segment = list(self._pre_roll)
                self._segment_start = self._frames_seen - len(self._segment)
                self._last_speech = len(self._segment) - 1
                self._speech_frames = self._speech_run
                self._pre_roll.clear()
                self._speech_run = 0
            return None
        self._segment.append(frame)
        if speech:
            self._last_speech = len(self._segment) - 1
            self._speech_frames += 1
        if len(self._segment) - 1 - self._last_speech >= self._end_frames:
            return self._close(truncated=False)
        if len(self._segment) >= self._max_frames:
            return self._close(truncated=True)
        return None

    def _close(self, truncated: bool) -> SpeechSegment | None:
        frames, start = self._segment or [], self._segment_start
        self._segment = None
        if self._speech_frames < self._min_frames:
            return None
        end = len(frames) if truncated else min(len(frames), self._last_speech + 1 + self._keep_after)
        samples = np.concatenate(frames[:end]) if frames else np.zeros(0, np.float32)
        t0 = start * self.frame_len / self.sample_rate
        return SpeechSegment(samples, self.sample_rate, t0, t0 + samples.size / self.sample_rate, truncated,
                             self._noise_profile)
