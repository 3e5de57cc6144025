"""HTTP-date (RFC 9110 section 5.6.7): the preferred IMF-fixdate out, all three forms in.

Written here rather than taken from ``email.utils``: that one module pulls
in ten (the email package, calendar, quopri, ...), which a server holds for
as long as it runs only to write ``Date`` and read ``If-Modified-Since``.
The English names are fixed: ``strftime`` would follow the locale.
"""

from __future__ import annotations

import datetime
import re
import time

__all__ = ["format_http_date", "parse_http_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = {name: i for i, name in enumerate(_MONTHS, 1)}
_CLOCK = r"(\d\d):(\d\d):(\d\d)"
_MON = "(" + "|".join(_MONTHS) + ")"
# IMF-fixdate:  Sun, 06 Nov 1994 08:49:37 GMT
_IMF = re.compile(rf"[A-Z][a-z]{{2}}, (\d\d) {_MON} (\d{{4}}) {_CLOCK} GMT")
# rfc850-date:  Sunday, 06-Nov-94 08:49:37 GMT
_RFC850 = re.compile(rf"[A-Z][a-z]{{5,8}}, (\d\d)-{_MON}-(\d\d) {_CLOCK} GMT")
# asctime-date: Sun Nov  6 08:49:37 1994
_ASCTIME = re.compile(rf"[A-Z][a-z]{{2}} {_MON} ([ \d]\d) {_CLOCK} (\d{{4}})")


def format_http_date(when: float | None = None) -> str:
    """``when`` (seconds since the epoch; default now) as an IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    t = time.gmtime(time.time() if when is None else when)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def parse_http_date(value: str) -> datetime.datetime | None:
    """The UTC time an HTTP-date names; None for anything else.

    A recipient must accept all three forms (section 5.6.7) and ignore a
    conditional whose date is not valid (sections 13.1.3 and 13.1.4), so
    None means "no date", not an error. A two-digit rfc850 year more than
    50 years ahead is taken as the past century, as the section says.
    """
    text = value.strip()
    if m := _IMF.fullmatch(text):
        day, month, year, hh, mm, ss = m.groups()
    elif m := _RFC850.fullmatch(text):
        day, month, short, hh, mm, ss = m.groups()
        this_year = datetime.datetime.now(datetime.UTC).year
        full = this_year - this_year % 100 + int(short)
        year = str(full - 100 if full > this_year + 50 else full)
    elif m := _ASCTIME.fullmatch(text):
        month, day, hh, mm, ss, year = m.groups()
    else:
        return None
    try:
        return datetime.datetime(int(year), _MONTH[month], int(day), int(hh), int(mm), int(ss),
                                 tzinfo=datetime.UTC)
    except ValueError:  # 31 Feb, 25:00:00
        return None
