#!/usr/bin/env python3
"""HTTP hello-world benchmark, public circuits.web API only.

Same program as /work/shared/bench/http_hello.py (only reformatted).

Usage: http_hello.py PYTHON [seconds] [connections]
Starts `Server + Controller` under PYTHON, loads it with wrk (1 thread,
keep-alive), prints JSON with requests/s and latency p50/p99. Run it from
/tmp for an installed circuits (e.g. upstream), so that the working copy
is not imported instead.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

APP = '''
import sys
from circuits.web import Server, Controller
class Root(Controller):
    def index(self):
        return "Hello World!"
(Server(("127.0.0.1", int(sys.argv[1]))) + Root()).run()
'''


def main() -> None:
    py = sys.argv[1]
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    f = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    f.write(APP)
    f.close()
    p = subprocess.Popen([py, f.name, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

        def lat(q: int) -> int:
            m = re.search(rf"{q}%\s+([\d.]+)(us|ms|s)", out)
            v, u = float(m.group(1)), m.group(2)
            return round(v * {"us": 1, "ms": 1000, "s": 1e6}[u])

        errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock_errs = re.search(r"Socket errors: (.*)", out)
        print(json.dumps({"req_per_s": round(rps), "p50_us": lat(50), "p99_us": lat(99),
                          "non2xx": int(errs.group(1)) if errs else 0,
                          "socket_errors": sock_errs.group(1) if sock_errs else ""}))
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
        os.unlink(f.name)


main()
