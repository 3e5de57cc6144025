"""Global constants shared by the circuits.web modules."""

from __future__ import annotations

from ..protocols.h1 import REASONS
from ..version import __version__

#: Product token sent in the Server header (RFC 9110 section 10.2.4).
SERVER_VERSION = f"circuits.web/{__version__}"
SERVER_URL = "https://github.com/circuits/circuits"
#: The highest HTTP version this server speaks, as (major, minor).
SERVER_PROTOCOL = (1, 1)

#: Status code -> reason phrase (the codec's RFC 9110 table).
HTTP_STATUS_CODES: dict[int, str] = dict(REASONS)

#: Banner appended to error pages when the server's ``display_banner`` is set.
POWERED_BY = '<hr /><p>Powered by: <a href="%(url)s">%(version)s</a></p>'

#: The default error page. Every substituted value is HTML-escaped by the
#: caller, so a description or path cannot inject markup (XSS).
DEFAULT_ERROR_MESSAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%(code)d %(name)s</title>
</head>
<body>
<h1>%(code)d %(name)s</h1>
<p>%(description)s</p>
%(traceback)s%(powered_by)s
</body>
</html>
"""
