"""The slice of the OpenAI chat-completions protocol `vlm-ros serve` speaks, without Ray or HTTP.

A request carries one user message with one `image_url` part (a base64 data URL) and text
parts (the instruction). The answer's content is the grounder's raw output, so a robot with
`backend: remote` and `model_family: vlm_ros` parses exactly the text its local backend
would have produced.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np

from vlm_ros.core.errors import InputError
from vlm_ros.remote.image_codec import decode_image


@dataclass
class GroundRequest:
    image_url: str  # base64 data URL, decoded by the worker that grounds it (decode_rgb)
    instruction: str
    model: str

    def decode_rgb(self) -> np.ndarray:
        """[H, W, 3] uint8; InputError when the data URL is not an image."""
        return decode_image(self.image_url)


def parse_chat_request(body: object) -> GroundRequest:
    """Chat-completions JSON -> frame + instruction. InputError (HTTP 400) naming the problem."""
    if not isinstance(body, dict):
        raise InputError("The request body must be a JSON object.")
    if body.get("stream"):
        raise InputError("Streaming is not supported; send stream: false.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError("The request has no messages.")
    user = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not user:
        raise InputError("The request has no user message.")
    content = user[-1].get("content")
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(parts, list):
        raise InputError("The user message's content must be a string or a list of parts.")
    images, texts = [], []
    for part in parts:
        if not isinstance(part, dict):
            raise InputError("Each content part must be an object.")
        if part.get("type") == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str):
                raise InputError("An image_url part has no url.")
            images.append(url)
        elif part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
    if len(images) != 1:
        raise InputError(f"The user message must carry exactly one image_url part, not {len(images)}.")
    instruction = " ".join(t.strip() for t in texts if t.strip())
    if not instruction:
        raise InputError("The user message has no text (the instruction).")
    if not images[0].startswith("data:"):
        raise InputError("The image must be a base64 data URL (data:image/...;base64,...); this server does not "
                         "fetch URLs.")
    return GroundRequest(images[0], instruction, str(body.get("model") or ""))


def chat_response(content: str, model: str, prompt_chars: int = 0) -> dict:
    """An OpenAI chat.completion object with one choice. Usage counts characters, not tokens:
    the grounders' tokenizers are not the client's business."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_chars, "completion_tokens": len(content),
                  "total_tokens": prompt_chars + len(content)},
    }


def error_body(message: str, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind}}


def models_response(model_id: str) -> dict:
    return {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "vlm_ros"}]}
