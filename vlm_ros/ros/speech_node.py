"""speech_node: microphone / AudioData topic / WAV file → spoken commands on `instruction`.

Wiring only: audio arrives (PortAudio callback, subscription, or file reader) and is queued;
one worker thread runs SpeechPipeline (plain Python) and publishes. Only recognitions with
status ok become std_msgs/String on `instruction`; every utterance, understood or not, is
reported as JSON on `speech_status`. A backend that cannot load is a logged error and an
"error" status, not a crash.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import Trigger

from vlm_ros.core.errors import VlmRosError
from vlm_ros.ros.parameters import descriptor
from vlm_ros.ros.spin import spin_node
from vlm_ros.speech.audio import AudioChunk, decode_pcm, read_wav
from vlm_ros.speech.builder import build_pipeline
from vlm_ros.speech.config import SpeechConfig, from_flat, parameters
from vlm_ros.speech.pipeline import ASK_AGAIN, AWAITING_CONFIRMATION, Recognition, SpeechPipeline, nothing_heard
from vlm_ros.speech.prompts import PromptSpeaker, is_stop_command, prompt_for
from vlm_ros.speech.sources import Microphone, chunked
from vlm_ros_interfaces.msg import AudioData

END_OF_FILE = object()  # queued after the last WAV chunk


class SpeechNode(Node):
    def __init__(self, **kwargs: Any):
        super().__init__("speech_node", **kwargs)
        for p in parameters():
            self.declare_parameter(p.name, p.default, descriptor(p))
        self.config: SpeechConfig = from_flat({p.name: self.get_parameter(p.name).value for p in parameters()})
        self.instruction_pub = self.create_publisher(String, "instruction", 10)
        self.status_pub = self.create_publisher(String, "speech_status", 10)
        self.prompt_pub = self.create_publisher(String, "speech_prompt", 10)
        talk = self.config.interaction
        self._stop_client = self.create_client(Trigger, talk.stop_service) if talk.stop_service else None
        self._speaker = PromptSpeaker(talk.prompt_voice) if talk.speak_prompts else None
        if self._speaker is not None and not PromptSpeaker.available():
            self.get_logger().warning("speak_prompts is set but espeak-ng is not installed; prompts are only published")
            self._speaker = None
        self._queue: queue.Queue = queue.Queue(maxsize=1000)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._mic: Microphone | None = None
        self._wav: AudioChunk | None = None
        self.pipeline: SpeechPipeline | None = None
        self._asked_at = 0.0  # time.monotonic() of the last confirmation question
        try:
            self.pipeline = self._make_pipeline()
            self._start_source()
        except VlmRosError as exc:
            self.get_logger().error(f"speech recognition is off: {exc}")
            self._publish_status({"status": "error", "reason": str(exc)})
            return
        self._spawn(self._work, "speech-worker")
        src = self.config.source
        what = {"wav": src.wav_path, "mic": src.mic_device or "default device", "topic": "audio"}.get(src.source, "")
        self.get_logger().info(f"ready: backend {self.pipeline.recognizer.name}, grammar "
                               f"{self.pipeline.grammar.origin}, source {src.source} ({what})")

    def _make_pipeline(self) -> SpeechPipeline:
        return build_pipeline(self.config)

    def _start_source(self) -> None:
        src = self.config.source
        if src.source == "topic":
            self.create_subscription(AudioData, "audio", self._on_audio, 100)
        elif src.source == "mic":
            self._mic = Microphone(src.mic_device, src.mic_sample_rate, src.chunk_ms)
            self._mic.__enter__()
            self._spawn(self._read_mic, "speech-mic")
        elif src.source == "wav":
            self._wav = read_wav(src.wav_path)  # a missing or unreadable file fails here, not in the thread
            self._spawn(self._read_wav, "speech-wav")
        else:
            raise VlmRosError(f"source {src.source!r} is unknown (use mic, topic or wav)")

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- sources: each only queues audio -------------------------------------------------------
    def _on_audio(self, msg: AudioData) -> None:
        try:
            samples = decode_pcm(bytes(msg.data), msg.encoding, max(1, msg.channels))
        except VlmRosError as exc:
            self.get_logger().warning(f"dropping audio message: {exc}", throttle_duration_sec=5.0)
            return
        self._put(AudioChunk(samples, int(msg.sample_rate)))

    def _read_mic(self) -> None:
        while not self._stop.is_set() and self._mic is not None:
            chunk = self._mic.read(timeout=0.2)
            if chunk is not None:
                self._put(chunk)

    def _read_wav(self) -> None:
        src = self.config.source
        assert self._wav is not None
        if self._stop.wait(src.wav_start_delay_s):
            return
        for chunk in chunked(self._wav, src.chunk_ms, realtime=src.wav_realtime):
            if self._stop.is_set():
                return
            self._put(chunk)
        self._put(END_OF_FILE)

    def _put(self, item: Any) -> None:
        try:
            self._queue.put(item, timeout=1.0)
        except queue.Full:
            self.get_logger().warning("speech worker is behind; dropping audio", throttle_duration_sec=5.0)

    # --- the worker: pipeline and publishing ---------------------------------------------------
    def _work(self) -> None:
        assert self.pipeline is not None
        idle_flush_s = self.config.endpoint.end_silence_ms / 1000.0 + 0.5
        heard_in_file = 0
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=idle_flush_s)
            except queue.Empty:  # the audio stopped mid-utterance (topic publisher went quiet)
                if self.pipeline.in_speech:
                    self._report(self.pipeline.flush())
                elif self._question_lapsed():
                    self._report([self.pipeline.lapse()])
                continue
            if item is END_OF_FILE:
                results = self.pipeline.flush()
                heard_in_file += len(results)
                self._report(results)
                if heard_in_file == 0:
                    self._report([nothing_heard(backend=self.pipeline.recognizer.name)])
                self.get_logger().info("end of WAV file")
                continue
            if self._speaker is not None and self._speaker.busy:
                continue  # the robot is talking: do not listen to its own prompt
            results = self.pipeline.feed(item)
            heard_in_file += len(results)
            self._report(results)

    def _question_lapsed(self) -> bool:
        """A confirmation question outlived its timeout while no audio came (a quiet topic source):
        the pipeline's stream clock stands still then, so the wall clock decides."""
        assert self.pipeline is not None
        return (self.pipeline.pending is not None
                and time.monotonic() - self._asked_at > self.config.interaction.confirm_timeout_s)

    def _report(self, results: list[Recognition]) -> None:
        for rec in results:
            if rec.status in (AWAITING_CONFIRMATION, ASK_AGAIN):  # asked, or asked again: the wait starts now
                self._asked_at = time.monotonic()
            if is_stop_command(rec):
                self._call_stop(rec)
            elif rec.instruction is not None:
                self.instruction_pub.publish(String(data=rec.instruction))
                self.get_logger().info(f"instruction: {rec.instruction!r} (confidence {rec.confidence:.2f})")
            else:
                self.get_logger().info(f"{rec.status}: {rec.reason}")
            self._publish_status(rec.to_dict())
            prompt = prompt_for(rec)
            if prompt is not None:
                self.prompt_pub.publish(String(data=prompt))
                if self._speaker is not None:
                    self._speaker.say(prompt)

    def _call_stop(self, rec: Recognition) -> None:
        """"stop" was heard: cancel the running execution through the grounding node's stop service."""
        if self._stop_client is None:
            self.get_logger().warning("heard stop, but stop_service is empty: nothing to call")
            return
        if not self._stop_client.service_is_ready():
            self.get_logger().error(f"heard stop, but service {self._stop_client.srv_name!r} is not available")
            return
        self.get_logger().info(f"heard stop: calling {self._stop_client.srv_name}")
        future = self._stop_client.call_async(Trigger.Request())
        future.add_done_callback(self._stop_done)

    def _stop_done(self, future: Any) -> None:
        try:
            response = future.result()
        except Exception as exc:  # a failed call is logged, the node keeps listening
            self.get_logger().error(f"stop service call failed: {exc}")
            return
        log = self.get_logger().info if response.success else self.get_logger().warning
        log(f"stop service answered success={response.success}: {response.message}")

    def _publish_status(self, status: dict) -> None:
        status.setdefault("stamp", time.time())
        self.status_pub.publish(String(data=json.dumps(status)))

    def destroy_node(self) -> None:
        self._stop.set()
        if self._mic is not None:
            self._mic.close()
            self._mic = None
        if self._speaker is not None:
            self._speaker.close()
        for thread in self._threads:
            thread.join(timeout=2.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(SpeechNode, args, threads=2)


if __name__ == "__main__":
    main()
