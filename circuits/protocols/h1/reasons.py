"""Reason phrases for the registered status codes.

Phrases follow RFC 9110 section 15 (which renamed e.g. 413 "Content Too
Large" and 422 "Unprocessable Content") and the IANA HTTP Status Code
Registry for codes defined elsewhere (RFC 6585, RFC 8297, RFC 4918 ...).
RFC 9112 section 4: the reason-phrase is informational only; clients ignore it.
"""

from __future__ import annotations

__all__ = ["REASONS", "reason_phrase"]

REASONS: dict[int, str] = {
    # 1xx Informational (RFC 9110 section 15.2)
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",  # RFC 2518
    103: "Early Hints",  # RFC 8297
    # 2xx Successful (RFC 9110 section 15.3)
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",  # RFC 4918
    208: "Already Reported",  # RFC 5842
    226: "IM Used",  # RFC 3229
    # 3xx Redirection (RFC 9110 section 15.4)
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    # 4xx Client Error (RFC 9110 section 15.5)
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",  # RFC 9110 section 15.5.19 reserves it
    421: "Misdirected Request",
    422: "Unprocessable Content",
    423: "Locked",  # RFC 4918
    424: "Failed Dependency",  # RFC 4918
    425: "Too Early",  # RFC 8470
    426: "Upgrade Required",
    428: "Precondition Required",  # RFC 6585
    429: "Too Many Requests",  # RFC 6585
    431: "Request Header Fields Too Large",  # RFC 6585
    451: "Unavailable For Legal Reasons",  # RFC 7725
    # 5xx Server Error (RFC 9110 section 15.6)
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",  # RFC 2295
    507: "Insufficient Storage",  # RFC 4918
    508: "Loop Detected",  # RFC 5842
    510: "Not Extended",  # RFC 2774
    511: "Network Authentication Required",  # RFC 6585
}

_CLASS_REASONS = {1: "Informational", 2: "Success", 3: "Redirection", 4: "Client Error", 5: "Server Error"}


def reason_phrase(status: int) -> str:
    """The registered phrase for ``status``, or a generic one for its class."""
    phrase = REASONS.get(status)
    if phrase is None:
        phrase = _CLASS_REASONS.get(status // 100, "Unknown")
    return phrase
