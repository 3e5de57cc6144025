"""The known device profiles, by name.

Adding a device kind: write ``devices/<kind>.py`` exposing ``PROFILE`` and
add it to the tuple below.  Listing them explicitly (rather than scanning the
package) keeps imports free of side effects and the set of kinds reviewable.
"""

from __future__ import annotations

from types import MappingProxyType

from . import csvline, jsonl, keyvalue, modbus, nmea, raw
from .profile import Profile

_ALL: tuple[Profile, ...] = (keyvalue.PROFILE, csvline.PROFILE, jsonl.PROFILE, nmea.PROFILE, raw.PROFILE,
                             modbus.PROFILE)

PROFILES: MappingProxyType[str, Profile] = MappingProxyType({profile.name: profile for profile in _ALL})


class UnknownProfileError(LookupError, ValueError):
    """No profile has this name; the message lists the valid ones.

    A ValueError too, so configuration loaders that catch ValueError report it.
    """


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        valid = ", ".join(sorted(PROFILES))
        raise UnknownProfileError(f"unknown device profile {name!r}; valid profiles: {valid}") from None
