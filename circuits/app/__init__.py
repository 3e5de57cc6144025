"""circuits.app: what an application needs around its components.

Daemon (fork into the background, pid file), DropPrivileges (stop being
root), Config (an INI file with load/save events), Logger (file, syslog or
stderr logging fed by events) and Environment (a directory holding an
application's configuration and logs).
"""

from .config import Config, ConfigEvent
from .daemon import Daemon, Daemonize, WritePID, daemonize, daemonized, write_pid
from .dropprivileges import DropPrivileges, drop_privileges, privileges_dropped
from .env import Environment, EnvironmentError, EnvironmentEvent
from .log import Log, Logger

__all__ = [
    "Config", "ConfigEvent", "Daemon", "Daemonize", "DropPrivileges", "Environment", "EnvironmentError",
    "EnvironmentEvent", "Log", "Logger", "WritePID", "daemonize", "daemonized", "drop_privileges",
    "privileges_dropped", "write_pid",
]
