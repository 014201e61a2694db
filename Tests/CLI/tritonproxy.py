"""A misbehaving Triton for tests: a KServe v2 HTTP proxy in front of the real CPU Triton that can
answer 503, rewrite a model's metadata and configuration, and rewrite inference requests and
replies (binary tensor data extension). It refuses system shared memory, so tensors travel in
HTTP bodies where it can see them."""
from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

Tensors = list[tuple[dict, bytes]]


def split(header_length: int, body: bytes, key: str) -> tuple[dict, Tensors]:
    """A binary-extension body as its JSON header and each tensor (its header entry, its bytes)."""
    header = json.loads(body[:header_length])
    offset = header_length
    tensors: Tensors = []
    for entry in header.get(key, []):
        size = entry.get("parameters", {}).get("binary_data_size")
        data = b""
        if size is not None:
            data = body[offset:offset + size]
            offset += size
        tensors.append((entry, data))
    return header, tensors


def join(header: dict, key: str, tensors: Tensors) -> tuple[bytes, int]:
    """The body of a header and tensors; returns the body and the header's length."""
    header[key] = [entry for entry, _ in tensors]
    for entry, data in tensors:
        if "parameters" in entry and "binary_data_size" in entry["parameters"]:
            entry["parameters"]["binary_data_size"] = len(data)
    text = json.dumps(header).encode()
    return text + b"".join(data for _, data in tensors), len(text)


class TritonProxy:
    """Starts on 127.0.0.1 (a port of its own) in front of `upstream` (host:port)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.fail_infer = False
        self.infer_requests = 0
        # model -> function(metadata JSON) -> metadata JSON; same for the configuration.
        self.metadata: dict[str, Callable[[dict], dict]] = {}
        self.config: dict[str, Callable[[dict], dict]] = {}
        # model -> function(inputs) -> inputs, and function(outputs) -> outputs.
        self.request: dict[str, Callable[[Tensors], Tensors]] = {}
        self.reply: dict[str, Callable[[Tensors], Tensors]] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def answer(self, status: int, body: bytes, headers: Optional[dict] = None) -> None:
                self.send_response(status)
                for name, value in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.handle_any("GET")

            def do_POST(self) -> None:
                self.handle_any("POST")

            def handle_any(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path
                parts = path.split("/")
                model = parts[3] if len(parts) > 3 and parts[2] == "models" else None
                if path.startswith("/v2/systemsharedmemory"):
                    return self.answer(400, b'{"error":"this proxy offers no shared memory"}')
                if path.endswith("/infer"):
                    proxy.infer_requests += 1
                    if proxy.fail_infer:
                        return self.answer(503, b'{"error":"Server not ready"}')
                headers = {k.lower(): v for k, v in self.headers.items() if k.lower() in
                           ("content-type", "inference-header-content-length")}
                if path.endswith("/infer") and model in proxy.request:
                    length = int(headers.get("inference-header-content-length") or len(body))
                    header, inputs = split(length, body, "inputs")
                    body, length = join(header, "inputs", proxy.request[model](inputs))
                    if "inference-header-content-length" in headers:
                        headers["inference-header-content-length"] = str(length)
                connection = http.client.HTTPConnection(proxy.upstream, timeout=60)
                connection.request(method, path, body=body if method == "POST" else None, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
                out_headers = {k.lower(): v for k, v in reply.getheaders() if k.lower() in
                               ("content-type", "inference-header-content-length")}
                connection.close()
                if reply.status == 200 and model and method == "GET":
                    rewrite = proxy.config.get(model) if path.endswith("/config") else (
                        proxy.metadata.get(model) if len(parts) == 4 else None)
                    if rewrite:
                        data = json.dumps(rewrite(json.loads(data))).encode()
                if reply.status == 200 and path.endswith("/infer") and model in proxy.reply:
                    length = int(out_headers.get("inference-header-content-length") or len(data))
                    header, outputs = split(length, data, "outputs")
                    data, length = join(header, "outputs", proxy.reply[model](outputs))
                    if "inference-header-content-length" in out_headers:
                        out_headers["inference-header-content-length"] = str(length)
                self.answer(reply.status, data, out_headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
