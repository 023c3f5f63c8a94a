"""A real OpenAI-style chat server on 127.0.0.1 that the tests make misbehave on purpose.

Standard-library http.server on a free port (bound to port 0), one thread per request,
stopped by the test. `mode` picks the behaviour of the next requests.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "slow", "http-503", "http-400", "not-json", "no-choices", "wrong-format", "hang-up", "trickle")


def reply(content: str) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


class ChatServer:
    def __init__(self, program: str = "pick(red block) @ (32, 24) ; place(left side) @ (10, 10)",
                 slow_s: float = 5.0):
        self.mode, self.program, self.slow_s = "ok", program, slow_s
        self.requests: list[dict] = []  # bodies received
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, payload: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "test-model"}]}).encode())
                else:
                    self._send(404, b"{}")

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.slow_s)
                    self._send(200, json.dumps(reply(server.program)).encode())
                elif mode.startswith("http-"):
                    code = int(mode.split("-")[1])
                    self._send(code, json.dumps({"error": {"message": f"test server says {code}"}}).encode())
                elif mode == "not-json":
                    self._send(200, b"<html>definitely not json", "text/html")
                elif mode == "no-choices":
                    self._send(200, json.dumps({"id": "x", "choices": []}).encode())
                elif mode == "wrong-format":
                    self._send(200, json.dumps(reply("I see a red block near the bowl.")).encode())
                elif mode == "hang-up":
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif mode == "trickle":  # headers at once, then one byte every 0.5 s
                    payload = json.dumps(reply(server.program)).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    for i in range(len(payload)):
                        self.wfile.write(payload[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.5)
                else:
                    self._send(200, json.dumps(reply(server.program)).encode())

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # clients hang up on purpose here
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
