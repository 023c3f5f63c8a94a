"""One chat-completions call with a hard deadline, retries, and a named cause for every failure.

httpx's timeouts are per phase (connect, each read), so a server that trickles its reply could
hold a request far past `timeout_s`. Each attempt runs on a worker thread and is waited for
`timeout_s` at most; an attempt given up on ends by itself within its own httpx timeouts (the
pool of workers is small, so they cannot pile up). Every failure becomes a BackendError whose
message says what went wrong (never the API key).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import httpx

from vlm_ros.core.errors import BackendError

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})  # worth another try; other 4xx are not
BACKOFF_S = 0.05  # before retry k: BACKOFF_S * 2**k, within the request's budget
MAX_REPLY_BYTES = 4 << 20  # a chat reply is a few kB; more is a misbehaving server


@dataclass
class CallStats:
    attempts: int = 0
    elapsed_s: float = 0.0


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix."""


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:  # OpenAI-style {"error": {"message": ...}} or FastAPI {"detail": ...}
        data = json.loads(text)
        if isinstance(data, dict):
            err = data.get("error", data.get("detail", text))
            text = str(err.get("message", err)) if isinstance(err, dict) else str(err)
    except ValueError:
        pass
    return text if len(text) <= limit else text[:limit] + "..."


def _read_body(response: httpx.Response, deadline: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise BackendError(f"The remote server's reply is larger than {MAX_REPLY_BYTES >> 20} MiB.")
        if time.monotonic() > deadline:  # ends an abandoned attempt's trickle early
            raise httpx.ReadTimeout("reply still arriving at the deadline")
    return b"".join(chunks)


def post_json(client: httpx.Client, url: str, body: dict, headers: dict[str, str], timeout_s: float,
              retries: int, stats: CallStats | None = None, workers: ThreadPoolExecutor | None = None) -> dict:
    """POST `body`, return the decoded JSON object. Raises BackendError within
    timeout_s * (retries + 1) + the backoffs (0.05, 0.1, 0.2 s, ...)."""
    stats = stats if stats is not None else CallStats()
    own = workers is None
    pool = workers or ThreadPoolExecutor(max_workers=1, thread_name_prefix="remote-attempt")
    start = time.monotonic()
    last = ""
    try:
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
            stats.attempts = attempt + 1
            deadline = time.monotonic() + timeout_s
            future = pool.submit(_attempt, client, url, body, headers, timeout_s, deadline)
            try:
                return future.result(timeout=max(deadline - time.monotonic(), 0.0))
            except FutureTimeout:
                future.cancel()
                last = f"The remote server at {url} did not answer within {timeout_s:.1f} s."
            except _Retryable as error:
                last = str(error)
            finally:
                stats.elapsed_s = time.monotonic() - start
    finally:
        if own:
            pool.shutdown(wait=False)
    tries = f"{retries + 1} attempt{'s' if retries else ''}"
    raise BackendError(f"{last} ({tries} in {stats.elapsed_s:.1f} s)")


def _attempt(client: httpx.Client, url: str, body: dict, headers: dict[str, str], timeout_s: float,
             deadline: float) -> dict:
    try:
        with client.stream("POST", url, json=body, headers=headers, timeout=httpx.Timeout(timeout_s)) as response:
            raw = _read_body(response, deadline)
    except httpx.TimeoutException:
        raise _Retryable(f"The remote server at {url} did not answer within {timeout_s:.1f} s.") from None
    except httpx.ConnectError as error:
        raise _Retryable(f"The remote server at {url} could not be reached: {error or 'connection failed'}.") \
            from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
        raise _Retryable(f"The remote server at {url} broke the connection: {error or type(error).__name__}.") \
            from None
    except httpx.HTTPError as error:
        raise BackendError(f"The request to the remote server at {url} failed: {error}.") from None
    if response.status_code in RETRY_STATUS:
        raise _Retryable(f"The remote server at {url} answered HTTP {response.status_code}: {_excerpt(raw)}")
    if response.status_code >= 400:
        raise BackendError(f"The remote server at {url} answered HTTP {response.status_code}: {_excerpt(raw)}")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BackendError(f"The remote server's reply is not JSON: {_excerpt(raw, 80)!r}") from None
    if not isinstance(data, dict):
        raise BackendError(f"The remote server's reply is JSON but not an object: {_excerpt(raw, 80)!r}")
    return data
