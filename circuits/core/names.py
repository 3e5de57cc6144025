"""Event names.

An event's name is its class name "uncamelled": ``Woof`` -> ``woof``,
``IdentifySuccess`` -> ``identify_success``, ``MySpecialEvent`` ->
``my_special_event``; names already in snake_case (``hello``,
``read_value_changed``) are kept. Handler names go through the same function,
so code written in the 2.x style (CamelCase classes) and in the 3.x style
(lower-case classes) both match their handlers.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_cache: dict[str, str] = {}


def event_name(name: str) -> str:
    """The canonical (snake_case) form of an event or handler name."""
    try:
        return _cache[name]
    except KeyError:
        pass
    canonical = _BOUNDARY.sub("_", name).lower() if not name.islower() else name
    if len(_cache) < 100_000:  # bounded: names built at run time must not grow memory forever
        _cache[name] = canonical
    return canonical
