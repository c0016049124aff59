"""Shared plumbing for the loopback test servers in this folder.

Every server binds 127.0.0.1 on a port the kernel picks, writes that port
to --port-file (atomically: temp file + rename, so a reader never sees half
a number), and exits by itself when its parent process goes away or after
--lifetime seconds, so a crashed test never leaves a server behind.
"""
import argparse
import os
import sys
import threading
import time
from http.server import ThreadingHTTPServer


def base_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True, help="where to write the chosen port")
    p.add_argument("--lifetime", type=float, default=300.0,
                   help="exit after this many seconds whatever happens (default 300)")
    return p


def _watchdog(parent, lifetime):
    start = time.monotonic()
    while True:
        time.sleep(0.2)
        # A parent that died before we started has already been replaced
        # by init (pid 1): that counts as gone too.
        if os.getppid() != parent or parent == 1 or time.monotonic() - start > lifetime:
            os._exit(0)


class Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: concurrent clients beyond
    # it see a dropped SYN and a 1 s retransmit, which would hide the very
    # concurrency the tests measure.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hanging up early (size limits, timeouts) are expected


def serve(handler_cls, args):
    server = Server(("127.0.0.1", 0), handler_cls)
    server.daemon_threads = True
    threading.Thread(target=_watchdog, args=(os.getppid(), args.lifetime), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


def parse_modes(path, stop):
    """Leading path segments before `stop` are modes: "404", "delay=50"."""
    segs = [s for s in path.split("?")[0].split("/") if s]
    modes = {}
    rest = []
    for i, s in enumerate(segs):
        if s == stop:
            rest = segs[i:]
            break
        k, _, v = s.partition("=")
        modes[k] = v
    else:
        rest = []
    return modes, rest


class Counter:
    """Thread-safe per-key request counts (for "fail=N" modes)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def bump(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]
