#!/usr/bin/env python3
"""A loopback stand-in for NVIDIA's RIM service, with fault modes.

Start:  python3 tests/servers/rimsvc.py --port-file /tmp/rim.port --dir DIR
Stop:   kill <pid>   (it also exits when its parent dies, or after --lifetime s)

GET /v1/rim/<id> answers like the real service: 200 with JSON
{"id", "rim": base64 of the XML, "sha256", "request_id", "rim_format",
"last_updated"}, built from DIR/<id>.xml; or DIR/<id>.json is sent as it is
(a recorded service answer); 404 when neither exists.

Fault modes are path segments before /v1/rim, so a test picks one by its
base URL, e.g. http://127.0.0.1:PORT/delay=50/fail=2/v1/rim/<id>:
  delay=MS     wait MS ms before answering
  fail=N       the first N requests for this (modes, id) get HTTP 500
  status=CODE  always answer CODE with a small JSON error body
  hang         accept, read the request, never answer (until the test ends)
  corrupt      "rim" is not valid base64
  badsha       "sha256" is wrong
  badid        "id" names another RIM
  big=BYTES    200 with a body of BYTES bytes (for size limits)
  auth=KEY     401 unless "Authorization: Bearer KEY"
GET /headers answers a JSON object of the request headers (for tests of
User-Agent and Authorization).
"""
import base64
import hashlib
import json
import os
import re
import time
from http.server import BaseHTTPRequestHandler

import common

ARGS = None
COUNTS = common.Counter()
ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/headers":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            return self.send(200, body)
        modes, rest = common.parse_modes(self.path, "v1")
        if "delay" in modes:
            time.sleep(int(modes["delay"]) / 1000.0)
        if "hang" in modes:
            time.sleep(ARGS.lifetime)
            return
        if "auth" in modes and self.headers.get("Authorization") != "Bearer " + modes["auth"]:
            return self.send(401, b'{"error":"unauthorized"}')
        if "status" in modes:
            return self.send(int(modes["status"]), b'{"error":"injected"}')
        if "big" in modes:
            return self.send(200, b"x" * int(modes["big"]))
        if len(rest) != 3 or rest[1] != "rim" or not ID_RE.match(rest[2]):
            return self.send(400, b'{"error":"bad path"}')
        rim_id = rest[2]
        if "fail" in modes:
            key = self.path
            if COUNTS.bump(key) <= int(modes["fail"]):
                return self.send(500, b'{"error":"injected failure"}')
        raw = os.path.join(ARGS.dir, rim_id + ".json")
        if os.path.exists(raw):
            with open(raw, "rb") as f:
                return self.send(200, f.read())
        path = os.path.join(ARGS.dir, rim_id + ".xml")
        if not os.path.exists(path):
            return self.send(404, b'{"error":"not found"}')
        with open(path, "rb") as f:
            xml = f.read()
        doc = {
            "id": rim_id if "badid" not in modes else rim_id + "_OTHER",
            "rim": base64.b64encode(xml).decode(),
            "sha256": hashlib.sha256(xml).hexdigest(),
            "request_id": "00000000-0000-0000-0000-000000000000",
            "rim_format": "TCG",
            "last_updated": "2025-01-01T00:00:00.000Z",
        }
        if "corrupt" in modes:
            doc["rim"] = "!!not*base64" + doc["rim"]
        if "badsha" in modes:
            doc["sha256"] = hashlib.sha256(xml + b"x").hexdigest()
        self.send(200, json.dumps(doc).encode())


def main():
    global ARGS
    p = common.base_args("loopback RIM service")
    p.add_argument("--dir", required=True, help="folder of <id>.xml / <id>.json")
    ARGS = p.parse_args()
    common.serve(Handler, ARGS)


if __name__ == "__main__":
    main()
