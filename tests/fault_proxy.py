#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the launcher, for the fault tests.

Each request from the SDK is, with probability --rate, answered by a fault
instead of the launcher:

* ``503``: HTTP 503 with the service's own error shape (ServiceUnavailable);
* ``throttle``: the throttling error each wire protocol speaks: AWS query
  (IAM, STS, SNS) an XML ``Throttling`` error with HTTP 400; AWS JSON 1.0/1.1
  (``X-Amz-Target``) ``{"__type": "ThrottlingException"}`` with HTTP 400;
  CloudWatch's Smithy RPCv2 CBOR (``smithy-protocol: rpc-v2-cbor``) a CBOR map
  with ``__type`` ThrottlingException, HTTP 400 and the protocol header; REST
  JSON HTTP 429 with ``x-amzn-ErrorType: ThrottlingException``; S3 HTTP 503
  ``SlowDown`` XML;
* ``reset-before``: the connection is reset (RST) before the launcher sees
  the request;
* ``reset-after``: the launcher acts on the request, then the connection is
  reset before the answer reaches the client (the write happened; the client
  does not know);
* ``delay``: 100-600 ms, then forwarded.

Faults are drawn from a seeded generator (--seed), so a failing run can be
replayed. The proxy prints ``ROOTGUARD_FAULT_PROXY <url>`` when listening and
exits when its stdin closes. Counts per fault are printed on stderr at exit.
Only 127.0.0.1 is bound.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import socketserver
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

import cbor2

FAULTS = ["503", "throttle", "reset-before", "reset-after", "delay"]
LOCK = threading.Lock()
COUNTS: dict[str, int] = {}


def protocol(headers: dict[str, str], body: bytes) -> str:
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "cbor"
    if "x-amz-target" in headers:
        return "json"
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    auth = headers.get("authorization", "")
    if "/s3/aws4_request" in auth:
        return "s3"
    return "rest-json"


def error_answer(kind: str, proto: str) -> tuple[int, list[tuple[str, str]], bytes]:
    code = "ThrottlingException" if kind == "throttle" else "ServiceUnavailable"
    msg = "Rate exceeded" if kind == "throttle" else "Service is unavailable, try again"
    if proto == "query":
        qcode = "Throttling" if kind == "throttle" else "ServiceUnavailable"
        body = (f"<ErrorResponse><Error><Type>{'Sender' if kind == 'throttle' else 'Receiver'}</Type>"
                f"<Code>{qcode}</Code><Message>{msg}</Message></Error><RequestId>fault</RequestId></ErrorResponse>").encode()
        return (400 if kind == "throttle" else 503), [("Content-Type", "text/xml")], body
    if proto == "json":
        body = json.dumps({"__type": code, "message": msg}).encode()
        return (400 if kind == "throttle" else 503), [("Content-Type", "application/x-amz-json-1.1")], body
    if proto == "cbor":
        body = cbor2.dumps({"__type": code, "message": msg})
        return (400 if kind == "throttle" else 503), [
            ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")], body
    if proto == "s3":
        s3code = "SlowDown" if kind == "throttle" else "ServiceUnavailable"
        body = f"<Error><Code>{s3code}</Code><Message>{msg}</Message></Error>".encode()
        return 503, [("Content-Type", "application/xml")], body
    body = json.dumps({"message": msg}).encode()
    return (429 if kind == "throttle" else 503), [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], body


def reset(sock: socket.socket) -> None:
    # SO_LINGER 0: close() sends RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        f = self.request.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            raw_headers: list[tuple[str, str]] = []
            while True:
                h = f.readline().decode("latin-1")
                if h in ("\r\n", "\n", ""):
                    break
                k, v = h.split(":", 1)
                headers[k.strip().lower()] = v.strip()
                raw_headers.append((k.strip(), v.strip()))
            body = f.read(int(headers.get("content-length", "0") or 0))
            with LOCK:
                roll = self.server.rng.random()
                eligible = not self.server.protocols or protocol(headers, body) in self.server.protocols
                faults = self.server.kinds or FAULTS
                kind = self.server.rng.choice(faults) if eligible and roll < self.server.rate else "pass"
                COUNTS[kind] = COUNTS.get(kind, 0) + 1
                by_proto = f"{kind}:{protocol(headers, body)}"
                COUNTS[by_proto] = COUNTS.get(by_proto, 0) + 1
                delay = self.server.rng.uniform(0.1, 0.6)
            if kind == "reset-before":
                reset(self.request)
                return
            if kind in ("503", "throttle"):
                status, hdrs, payload = error_answer(kind, protocol(headers, body))
                self.reply(status, hdrs, payload)
                continue
            if kind == "delay":
                time.sleep(delay)
            status, hdrs, payload = self.forward(method, target, raw_headers, body)
            if kind == "reset-after":
                reset(self.request)
                return
            self.reply(status, hdrs, payload)

    def forward(self, method, target, raw_headers, body):
        up = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in raw_headers:
            if k.lower() not in ("connection", "content-length"):
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        payload = resp.read()
        hdrs = [(k, v) for k, v in resp.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        conn.close()
        return resp.status, hdrs, payload

    def reply(self, status, hdrs, payload):
        head = f"HTTP/1.1 {status} {http.client.responses.get(status, '')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in hdrs)
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        self.request.sendall(head.encode("latin-1") + payload)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocols", default="", help="only requests of these protocols (comma-separated: query,json,cbor,rest-json,s3)")
    parser.add_argument("--faults", default="", help="only these faults (comma-separated)")
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.upstream = args.upstream
    server.rate = args.rate
    server.rng = random.Random(args.seed)
    server.protocols = [p for p in args.protocols.split(",") if p]
    server.kinds = [k for k in args.faults.split(",") if k]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ROOTGUARD_FAULT_PROXY http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()
    print(json.dumps(COUNTS), file=sys.stderr, flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
