#!/usr/bin/env python3
"""A bounded load client for `gpuattest serve` replicas on loopback.

    load_client.py OUT.json KEY TOTAL SECONDS BODY-FILE[,BODY-FILE...] URL [URL...]

THREADS=4 threads send TOTAL requests in all (stopping after SECONDS
whatever the count) to POST URL/v4/attest/gpu, round-robin over the URLs
and bodies, and write what the clients received to OUT.json:
{"received": [{"request_id", "overall", "token", "url"}], "errors": {url: n},
"other": [status ...]}. A request that got no answer (connection refused or
reset: a replica killed under it) counts in errors.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

out_path, key, total, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
bodies = [open(p, "rb").read() for p in sys.argv[5].split(",")]
urls = sys.argv[6:]
lock = threading.Lock()
state = {"next": 0, "received": [], "errors": {u: 0 for u in urls}, "other": []}
t0 = time.time()


def one(conns, i):
    url = urls[i % len(urls)]
    body = bodies[(i // len(urls)) % len(bodies)]
    u = urllib.parse.urlparse(url)
    try:
        c = conns.get(url)
        if c is None:
            c = conns[url] = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("POST", "/v4/attest/gpu", body=body,
                  headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
        r = c.getresponse()
        data = r.read()
    except (OSError, http.client.HTTPException):
        conns.pop(url, None)
        with lock:
            state["errors"][url] += 1
        return
    with lock:
        if r.status != 200:
            state["other"].append(r.status)
            return
        eat = json.loads(data)
        payload = eat[0][1].split(".")[1]
        import base64
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        state["received"].append({"request_id": r.getheader("X-Request-Id"), "url": url,
                                  "overall": claims["x-nvidia-overall-att-result"],
                                  "token": data.decode()})


def worker():
    conns = {}
    while time.time() - t0 < seconds:
        with lock:
            i = state["next"]
            if i >= total:
                return
            state["next"] += 1
        one(conns, i)


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
del state["next"]
json.dump(state, open(out_path, "w"))
print("load: %d answered, %d without an answer, %d other statuses, %.1f s" % (
    len(state["received"]), sum(state["errors"].values()), len(state["other"]), time.time() - t0))
