"""A program that daemonizes (for test_app_daemon): python daemon_app.py PIDFILE STDOUT.

After daemonizing it prints "daemon <pid> <ppid> <sid>" to its new stdout and runs
until SIGTERM.
"""

from __future__ import annotations

import os
import sys

from circuits import Component, Manager
from circuits.app import Daemon


class Report(Component):
    channel = "daemon"

    def daemonized(self, pid: int) -> None:
        print(f"daemon {pid} {os.getppid()} {os.getsid(0)} {os.getcwd()}", flush=True)


def main() -> None:
    pidfile, stdout = sys.argv[1], sys.argv[2]
    app = Manager()
    Daemon(pidfile, path="/", stdout=stdout, stderr=stdout).register(app)
    Report().register(app)
    app.run()


if __name__ == "__main__":
    main()
