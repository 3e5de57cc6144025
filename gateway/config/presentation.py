"""How the dashboard shows a device's fields: ``[device.fields.NAME]``.

::

    [device.fields.temp]
    label = "Temperature"      # shown instead of the field's key
    unit = "°C"                # after the value and on the chart's axis
    chart = true               # force a chart on (or off: false)
    min = 0                    # fixed chart axis (else it follows the data)
    max = 50
    decimals = 1               # digits after the point
    warn_above = 35            # highlighted (and counted in /metrics) past these
    warn_below = 5

Every key is optional. Without ``chart`` the page charts numeric fields
that vary and are not ever-rising counters (uptime, kWh): that is decided
by the page from the values, here only what the user said is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # model.py imports this module, and fields.py imports model.py
    from .fields import Table

__all__ = ["FieldPresentation", "read_fields"]

#: A label or unit longer than this is surely pasted by mistake.
MAX_TEXT = 64


@dataclass(frozen=True, slots=True)
class FieldPresentation:
    label: str | None = None
    unit: str | None = None
    chart: bool | None = None
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    warn_above: float | None = None
    warn_below: float | None = None

    def warning(self, value: object) -> str | None:
        """``"above"``/``"below"`` when a number is past a threshold, else None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if self.warn_above is not None and value > self.warn_above:
            return "above"
        if self.warn_below is not None and value < self.warn_below:
            return "below"
        return None

    def as_dict(self) -> dict[str, Any]:
        """The keys that were set, for the page (``/api/devices``)."""
        return {name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None}


def _number(t: Table, key: str) -> float | None:
    value = t.raw(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        t.error(key, f"must be a finite number, got {t.show_type(value)}")
        return None
    return float(value)


def _text(t: Table, key: str) -> str | None:
    value = t.string(key)
    if value is not None and len(value) > MAX_TEXT:
        t.error(key, f"must be at most {MAX_TEXT} characters, got {len(value)}")
        return None
    return value


def _one(t: Table) -> FieldPresentation:
    chart = t.raw("chart")
    if chart is not None and not isinstance(chart, bool):
        t.error("chart", f"must be a boolean (true or false), got {t.show_type(chart)}")
        chart = None
    low, high = _number(t, "min"), _number(t, "max")
    if low is not None and high is not None and low >= high:
        t.error("min", f"must be less than max ({high:g})")
    below, above = _number(t, "warn_below"), _number(t, "warn_above")
    if below is not None and above is not None and below > above:
        t.error("warn_below", f"must not be greater than warn_above ({above:g})")
    result = FieldPresentation(
        label=_text(t, "label"), unit=_text(t, "unit"), chart=chart, min=low, max=high,
        decimals=t.integer("decimals", None, minimum=0, maximum=10), warn_above=above, warn_below=below)
    t.finish()
    return result


def read_fields(device: Table) -> tuple[tuple[str, FieldPresentation], ...]:
    """The ``fields`` sub-table of a ``[[device]]``: (field name, presentation) pairs."""
    fields = device.table("fields")
    if fields is None:
        return ()
    result = []
    for name in list(fields.data):
        sub = fields.table(name)
        if sub is not None:
            result.append((name, _one(sub)))
    return tuple(result)
