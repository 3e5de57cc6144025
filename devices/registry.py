"""The known device profiles, by name.

Adding a device kind: write ``devices/<kind>.py`` exposing ``PROFILE`` and
add it to the table below.  Listing them explicitly (rather than scanning the
package) keeps imports free of side effects and the set of kinds reviewable.

A profile's module is imported when the profile is first asked for, not with
the package: a gateway holds the parsers its configuration names, not every
one (the Modbus profile alone brings circuits.protocols.modbus; issue 15).
Listing ``PROFILES`` (``gateway check``, the tests) imports them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from .profile import Profile

#: Each profile's name and the module (in this package) whose ``PROFILE`` it is.
_MODULES: dict[str, str] = {
    "keyvalue": "keyvalue", "csv": "csvline", "json": "jsonl", "nmea": "nmea", "raw": "raw",
    "modbus": "modbus",
}


class _Profiles(Mapping[str, Profile]):
    """A read-only name -> Profile mapping that imports a profile on first use."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, Profile] = {}

    def __getitem__(self, name: str) -> Profile:
        profile = self._loaded.get(name)
        if profile is None:
            module = self._modules[name]  # KeyError for an unknown name, as a dict
            profile = import_module(f".{module}", __package__).PROFILE
            if profile.name != name:
                raise RuntimeError(f"devices.{module}.PROFILE is named {profile.name!r}, listed as {name!r}")
            self._loaded[name] = profile
        return profile

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, name: object) -> bool:
        return name in self._modules  # without importing the profile

    def __repr__(self) -> str:
        return f"<device profiles {', '.join(self._modules)}>"


PROFILES: Mapping[str, Profile] = _Profiles(_MODULES)


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
