"""The `remote` backend: a Grounder that asks an OpenAI-compatible chat-completions server.

Any server that speaks the protocol works: `vlm-ros serve` (whose reply is our own program
text, so plans match the local backend's), vLLM, SGLang, Ollama, `transformers serve` hosting a
family checkpoint. The frame goes as a base64 `image_url` data URL next to the family's
prompt; the reply's text is parsed by the family's parser and its points are mapped back from
the sent image to the frame. The API key is read from the environment variable named by
`api_key_env` at each request, and never stored in a parameter, a log line or a message.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import numpy as np

from vlm_ros.core.errors import BackendError, InputError, ModelOutputError
from vlm_ros.families import FamilyAdapter, get_family
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.family_grounder import FamilyGrounder, PointerAnswer
from vlm_ros.grounding.program import Program, parse_program
from vlm_ros.remote.http import CallStats, post_json
from vlm_ros.remote.image_codec import encode_image, shrink

MAX_TOKENS = 512  # a program of a dozen steps is ~300 tokens in the wordiest family format
OWN_FORMAT = "vlm_ros"
OWN_FORMATS = ("vlm_ros", "tabletop_vlm")  # the registry's name and alias for our program format


@dataclass
class RemoteConfig:
    url: str = "http://127.0.0.1:8000/v1"  # base URL; /chat/completions is appended
    model: str = ""  # "" : the first id the server's /v1/models lists
    family: str = "vlm_ros"  # vlm_ros: our program format; else a families-registry name (prompt + parser)
    api_key_env: str = ""  # NAME of the environment variable holding the key ("" : no key)
    timeout_s: float = 10.0  # per attempt
    retries: int = 1
    jpeg_quality: int = 90  # 1..100; 0 sends PNG (lossless)
    max_side: int = 640  # longer side of the sent image [px]; 0 keeps the frame's size
    max_tokens: int = MAX_TOKENS  # longest reply the server may generate (our own server ignores it)


def chat_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def reply_text(data: dict) -> str:
    """The first choice's message text; BackendError naming what is missing."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BackendError("The remote server's reply has no choices.")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # some servers answer with content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise BackendError("The remote server's reply has no message content in its first choice.")
    return content


def scale_program(program: Program, scale: float) -> Program:
    """Points in the sent (shrunk) image -> frame pixels."""
    if scale == 1.0:
        return program
    for step in program.steps:
        if step.pixel is not None:
            step.pixel = (step.pixel[0] * scale, step.pixel[1] * scale)
        if step.box is not None:
            step.box = tuple(v * scale for v in step.box)  # type: ignore[assignment]
    return program


class _RemotePointer:
    """FamilyGrounder's Pointer over the server: one chat request per phrase, image already shrunk."""

    def __init__(self, grounder: RemoteGrounder):
        self.grounder = grounder

    def point(self, rgb: np.ndarray, adapter: FamilyAdapter, phrase: str) -> PointerAnswer:
        image = encode_image(rgb, self.grounder.config.jpeg_quality, 0)
        return PointerAnswer(self.grounder.chat(image.url, adapter.prompt(phrase)))


class RemoteGrounder:
    """Implements vlm_ros.grounding.base.Grounder over HTTP. Thread-safe (httpx.Client is)."""

    def __init__(self, config: RemoteConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.family = config.family or OWN_FORMAT
        # None: our own program format (vlm-ros serve); else the families registry's adapter
        self.adapter: FamilyAdapter | None = None if self.family in OWN_FORMATS else get_family(self.family)
        self._client = httpx.Client(transport=transport, trust_env=False)  # no proxy env vars on loopback
        # attempts run here; given-up ones finish within their httpx timeouts, so a few workers suffice
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="remote-attempt")
        self._url = chat_url(config.url)
        self._model = config.model
        self.model_id = f"remote:{config.model or '?'}@{config.url}"
        self.last_call = CallStats()
        self.requests = self.failures = 0
        self.last_error = ""

    def _headers(self) -> dict[str, str]:
        name = self.config.api_key_env
        if not name:
            return {}
        key = os.environ.get(name, "")
        if not key:
            raise BackendError(f"remote_api_key_env names {name!r}, but that environment variable is not set.")
        return {"Authorization": f"Bearer {key}"}

    def _model_name(self, headers: dict[str, str]) -> str:
        """The configured model, else the first the server lists (asked once)."""
        if self._model:
            return self._model
        models_url = self._url.rsplit("/chat/completions", 1)[0] + "/models"
        try:
            reply = self._client.get(models_url, headers=headers, timeout=self.config.timeout_s)
            if reply.status_code != 200:
                raise BackendError(f"remote_model is empty and {models_url} answered HTTP {reply.status_code}.")
            self._model = str(reply.json()["data"][0]["id"])
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as error:
            raise BackendError(f"remote_model is empty and {models_url} did not list a model: "
                               f"{type(error).__name__}.") from None
        self.model_id = f"remote:{self._model}@{self.config.url}"
        return self._model

    def request_body(self, image_url: str, prompt: str) -> dict:
        """The chat-completions body: one user message with the image and the prompt."""
        return {
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": image_url}},
                {"type": "text", "text": prompt}]}],
            "max_tokens": self.config.max_tokens, "temperature": 0.0, "stream": False,
        }

    def chat(self, image_url: str, prompt: str) -> str:
        """One request: image + prompt -> the reply's text. BackendError naming any failure."""
        headers = self._headers()
        body = self.request_body(image_url, prompt)
        body["model"] = self._model_name(headers)
        stats = CallStats()
        try:
            data = post_json(self._client, self._url, body, headers, self.config.timeout_s, self.config.retries,
                             stats, self._workers)
        finally:
            self.last_call = stats
        return reply_text(data)

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        t0 = time.perf_counter()
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise InputError(f"Expected an [H, W, 3] uint8 image, got {rgb.shape} {rgb.dtype}.")
        self.requests += 1
        try:
            if self.adapter is None:  # our own program format: the whole instruction in one request
                image = encode_image(rgb, self.config.jpeg_quality, self.config.max_side)
                text = self.chat(image.url, instruction)
                try:
                    program = parse_program(text)
                except ModelOutputError as error:
                    raise ModelOutputError(f"{error} (reply of the remote server, model_family vlm_ros)") from None
                scale = image.scale
            else:  # a pretrained family: one request per object phrase, read by the family's parser
                small, scale = shrink(rgb, self.config.max_side)
                result = FamilyGrounder(self.adapter, _RemotePointer(self), self.model_id).ground(small, instruction)
                program, text = result.program, result.raw_output
        except (BackendError, ModelOutputError) as error:
            self.failures += 1
            self.last_error = str(error)
            raise
        latency = {"remote": (time.perf_counter() - t0) * 1e3}
        return GroundingResult(program=scale_program(program, scale), raw_output=text, latency_ms=latency)

    def diagnostics(self) -> dict[str, str]:
        """For /diagnostics: where requests go and how they fared (never the key)."""
        return {"remote_url": self.config.url, "remote_model": self._model, "remote_family": self.family,
                "remote_requests": str(self.requests), "remote_failures": str(self.failures),
                "remote_last_error": self.last_error, "remote_last_attempts": str(self.last_call.attempts)}

    def close(self) -> None:
        self._workers.shutdown(wait=False)
        self._client.close()
