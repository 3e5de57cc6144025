"""For test_app_dropprivileges: drop to nobody, then report who we are as JSON."""

from __future__ import annotations

import json
import os
import sys

from circuits import Component, Manager
from circuits.app import DropPrivileges


class Report(Component):
    channel = "dropprivileges"

    def privileges_dropped(self, user: str, group: str, uid: int, gid: int) -> None:
        try:
            os.setuid(0)
            regained = True
        except PermissionError:
            regained = False
        umask = os.umask(0)
        print(json.dumps({"event": [user, group, uid, gid], "uid": os.getuid(), "euid": os.geteuid(),
                          "gid": os.getgid(), "groups": os.getgroups(), "umask": umask,
                          "regained": regained}), flush=True)
        self.stop()


def main() -> None:
    app = Manager()
    Report().register(app)
    DropPrivileges(sys.argv[1], None if sys.argv[2] == "-" else sys.argv[2], umask=0o027).register(app)
    app.run()


if __name__ == "__main__":
    main()
