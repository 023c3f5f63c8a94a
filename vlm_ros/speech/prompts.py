"""What the robot says back: one short prompt per decision, published on `speech_prompt` and,
when `speak_prompts` is set, spoken with espeak-ng.

Speech that was not understood gets no prompt: a workshop is full of talk that is not meant
for the robot, and answering all of it would be noise of its own.
"""

from __future__ import annotations

import shutil
import subprocess

from vlm_ros.speech.pipeline import (
    ASK_AGAIN,
    AWAITING_CONFIRMATION,
    DECLINED,
    LOW_CONFIDENCE,
    NOT_CONFIRMED,
    OK,
    Recognition,
)

STOP_PROGRAM = "stop()"


def is_stop_command(rec: Recognition) -> bool:
    return rec.status == OK and rec.program == STOP_PROGRAM


def prompt_for(rec: Recognition) -> str | None:
    """The sentence to say for a recognition, or None to stay quiet."""
    if is_stop_command(rec):
        return "Stopping."
    if rec.status == OK:
        return f"OK: {rec.text}."
    if rec.status == AWAITING_CONFIRMATION:
        return f"Did you say: {rec.text}? Say yes or no."
    if rec.status == ASK_AGAIN:
        return f"Sorry, was that a yes or a no? Did you say: {rec.text}?"
    if rec.status == DECLINED:
        return "OK, I will not do that."
    if rec.status == NOT_CONFIRMED:
        return "No answer, so I did nothing."
    if rec.status == LOW_CONFIDENCE and rec.program:
        return f"Sorry, I am not sure I heard that. Did you mean: {rec.text}? Please say it again."
    return None


class PromptSpeaker:
    """espeak-ng in the background; `busy` while it talks, so the microphone can ignore the robot's own voice."""

    def __init__(self, voice: str = "en-us"):
        self.voice = voice
        self._process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("espeak-ng") is not None

    @property
    def busy(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def say(self, text: str) -> None:
        if self.busy:
            self._process.wait(timeout=10)  # one prompt at a time, in order
        self._process = subprocess.Popen(["espeak-ng", "-v", self.voice, text], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)

    def close(self) -> None:
        if self.busy:
            self._process.terminate()
