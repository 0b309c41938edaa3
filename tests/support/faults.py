"""An HTTP proxy in front of a real object store that injects the faults clients must survive:
throttling (429, 503 SlowDown), server errors (500) and requests that hang past the client's
timeout. The emulators cannot inject faults themselves; everything else comes from the store.

Faults are deterministic: in `first_attempt` mode the first attempt of every distinct request
(method, path, query, Range) fails and its retry passes through, so a client that retries
gets exact data and one that does not fails; `always` fails everything; `off` passes through.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLE_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                 b"<Message>Please reduce your request rate.</Message></Error>")


class FaultProxy:
    # Kinds of fault, in the order first attempts get them; "hang" is used at most `max_hangs`
    # times (each costs the client a whole request timeout).
    KINDS = ("503", "429", "500", "hang")

    def __init__(self, upstream: str, hang_seconds: float = 3.0, max_hangs: int = 2):
        self.upstream = urlsplit(upstream)
        self.hang_seconds = hang_seconds
        self.max_hangs = max_hangs
        self.mode = "first_attempt"
        self.seen: Counter = Counter()  # request key -> attempts
        self.injected: Counter = Counter()  # fault kind -> count
        self.passed = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fault_for(self, key: tuple) -> str | None:
        with self._lock:
            self.seen[key] += 1
            if self.mode == "off" or (self.mode == "first_attempt" and self.seen[key] > 1):
                self.passed += 1
                return None
            n = sum(self.injected.values())
            kind = self.KINDS[n % len(self.KINDS)]
            if kind == "hang" and self.injected["hang"] >= self.max_hangs:
                kind = "503"
            self.injected[kind] += 1
            return kind

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                key = (self.command, self.path, self.headers.get("Range"))
                fault = proxy._fault_for(key)
                if fault == "hang":
                    time.sleep(proxy.hang_seconds)  # the client gives up first
                    fault = "503"
                if fault is not None:
                    status = int(fault)
                    payload = THROTTLE_BODY if status == 503 else b""
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Content-Type", "application/xml")
                    self.end_headers()
                    try:
                        self.wfile.write(payload)
                    except OSError:
                        pass
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                  timeout=60)
                # The signature covers Host: keep the client's (the upstream does not check it
                # against its own address).
                headers = {k: v for k, v in self.headers.items()}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    # A HEAD answer's Content-Length is the object's size: keep it.
                    if k.lower() in ("transfer-encoding", "connection") or (
                            k.lower() == "content-length" and self.command != "HEAD"):
                        continue
                    self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except OSError:
                    pass

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        return Handler
