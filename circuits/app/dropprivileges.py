"""DropPrivileges: give up root once the privileged set-up is done.

Typical use: bind port 80 (or open a device) as root, then run as
``nobody``. The component drops when the application starts (or at once
if registered into a running one). Sockets bind and devices open in
their components' constructors, so by then the privileged work is done;
anything that needs root in a ``started`` handler must come first in the
tree (handlers run in tree order).

Order matters and follows the usual advice (e.g. CERT POS36-C): the
supplementary groups and the group id must be changed *before* the user
id, since after ``setuid`` the process no longer may change them.
Afterwards the process checks that root cannot be regained.

Not running as root, there is nothing to drop: the component does nothing
(it still validates the user and group names up front, so a typo is found
on a developer's machine, not in production).
"""

from __future__ import annotations

import grp
import os
import pwd
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler

__all__ = ["DropPrivileges", "drop_privileges", "privileges_dropped"]


class drop_privileges(Event):
    """Drop now (fired by DropPrivileges when the application starts)."""


class privileges_dropped(Event):
    """Privileges were dropped: (user, group, uid, gid)."""


class DropPrivileges(BaseComponent):
    """Switch to ``user``/``group`` and set ``umask`` (see module doc).

    ``group`` defaults to the user's primary group. Raises ValueError at
    construction for an unknown user or group.
    """

    channel: Any = "dropprivileges"

    def __init__(self, user: str = "nobody", group: str | None = None, umask: int = 0o077,
                 channel: Any = channel) -> None:
        super().__init__(channel=channel)
        try:
            self.pw = pwd.getpwnam(user)
        except KeyError:
            raise ValueError(f"no such user: {user!r}") from None
        if group is None:
            self.gid = self.pw.pw_gid
            self.group = grp.getgrgid(self.gid).gr_name
        else:
            try:
                self.gid = grp.getgrnam(group).gr_gid
            except KeyError:
                raise ValueError(f"no such group: {group!r}") from None
            self.group = group
        self.user = user
        self.uid = self.pw.pw_uid
        self.umask = umask
        self.dropped = False

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self and self.root.running:
            self.fire(drop_privileges())

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        if manager is self.root:
            self.fire(drop_privileges())

    @handler("drop_privileges")
    def _on_drop(self) -> None:
        if self.dropped:
            return
        if os.getuid() != 0:
            return  # not root: nothing to drop (see module doc)
        # Supplementary groups: just the target group (no leftover root groups).
        os.setgroups([self.gid])
        os.setgid(self.gid)
        os.setuid(self.uid)
        os.umask(self.umask)
        if self.uid != 0:
            try:
                os.setuid(0)
            except PermissionError:
                pass
            else:
                raise RuntimeError("could regain root after dropping privileges")
        self.dropped = True
        self.fire(privileges_dropped(self.user, self.group, self.uid, self.gid))
