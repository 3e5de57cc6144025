"""Validation of the request-target (RFC 9112 section 3.2).

A request-target comes in exactly one of four forms, and which forms are
allowed depends on the method:

* origin-form    ``absolute-path [ "?" query ]``      -- every method but CONNECT
* absolute-form  ``absolute-URI``                      -- every method but CONNECT
* authority-form ``uri-host ":" port``                 -- CONNECT only (3.2.3)
* asterisk-form  ``"*"``                               -- OPTIONS only (3.2.4)

Anything else is not a request the server can route and gets 400 at once
(section 3.2: "A server MUST respond with 400 ... to any request that
contains an invalid request-target").  Checking here, in the sans-I/O
parser, means no later stage ever meets a target its URL splitter cannot
take apart (``urlsplit("http://[::1/")`` raises ``ValueError``).
"""

from __future__ import annotations

import ipaddress
import re

from .errors import BadRequest

__all__ = ["validate_target", "check_authority", "MAX_PORT"]

MAX_PORT = 65535

# RFC 3986 section 2 and 3.3:
#   unreserved  = ALPHA / DIGIT / "-" / "." / "_" / "~"
#   pct-encoded = "%" HEXDIG HEXDIG
#   sub-delims  = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
#   pchar       = unreserved / pct-encoded / sub-delims / ":" / "@"
_UNRESERVED = rb"A-Za-z0-9\-._~"
_SUB_DELIMS = rb"!$&'()*+,;="
_PCT = rb"%[0-9A-Fa-f]{2}"
_PCHAR = rb"(?:[" + _UNRESERVED + _SUB_DELIMS + rb":@]|" + _PCT + rb")"
#   segment = *pchar ; absolute-path = 1*( "/" segment ) ; query = *( pchar / "/" / "?" )
_ABS_PATH = rb"(?:/" + _PCHAR + rb"*)+"
_PATH_ABEMPTY = rb"(?:/" + _PCHAR + rb"*)*"
_QUERY = rb"(?:" + _PCHAR + rb"|[/?])*"

_ORIGIN_FORM = re.compile(_ABS_PATH + rb"(?:\?" + _QUERY + rb")?")

# RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
# Section 3.2: authority = [ userinfo "@" ] host [ ":" port ]; host is an
# IP-literal in brackets or a reg-name (an IPv4 address is a valid reg-name
# by its characters).  The authority's pieces are checked one by one below.
_ABSOLUTE_FORM = re.compile(
    rb"([A-Za-z][A-Za-z0-9+\-.]*)://([^/?#]*)(" + _PATH_ABEMPTY + rb")(?:\?" + _QUERY + rb")?"
)
_REG_NAME = re.compile(rb"(?:[" + _UNRESERVED + _SUB_DELIMS + rb"]|" + _PCT + rb")*")
# IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
_IP_FUTURE = re.compile(rb"[vV][0-9A-Fa-f]+\.[" + _UNRESERVED + _SUB_DELIMS + rb":]+")
_PORT = re.compile(rb"[0-9]{0,5}")


def _check_host(host: bytes) -> None:
    if host.startswith(b"["):
        if not host.endswith(b"]"):
            raise BadRequest("unterminated IP literal in request-target")
        literal = host[1:-1]
        if _IP_FUTURE.fullmatch(literal):
            return
        if b"%" in literal:
            raise BadRequest("zone identifier in request-target")
        try:
            # bytes are ASCII here (the request-line pattern admits only VCHAR);
            # a zone identifier ("%25eth0", RFC 6874) is not accepted.
            ipaddress.IPv6Address(literal.decode("ascii"))
        except ValueError:
            raise BadRequest("invalid IPv6 literal in request-target") from None
        return
    if not _REG_NAME.fullmatch(host):
        raise BadRequest("invalid host in request-target")
    if not host:
        raise BadRequest("empty host in request-target")


def check_authority(authority: bytes, *, port_required: bool) -> None:
    """``uri-host [ ":" port ]`` without userinfo; raises :class:`BadRequest`.

    RFC 9110 section 4.2.4: userinfo in an http(s) URI is deprecated and a
    recipient should treat it as an error, since it is a phishing vector.
    """
    if b"@" in authority:
        raise BadRequest("userinfo in request-target")
    if authority.startswith(b"["):
        end = authority.find(b"]")
        if end < 0:
            raise BadRequest("unterminated IP literal in request-target")
        host, rest = authority[: end + 1], authority[end + 1 :]
        if rest and not rest.startswith(b":"):
            raise BadRequest("junk after IP literal in request-target")
        port = rest[1:] if rest else None
    else:
        host, colon, port_bytes = authority.rpartition(b":")
        if not colon:
            host, port = authority, None
        else:
            port = port_bytes
    _check_host(host)
    if port is None or port == b"":
        if port_required:
            raise BadRequest("authority-form request-target without a port")
        return
    # bytes.fullmatch on [0-9]: ASCII digits only ("²" never passes).
    if not _PORT.fullmatch(port) or int(port) > MAX_PORT:
        raise BadRequest("invalid port in request-target")


def validate_target(method: str, target: bytes) -> None:
    """Raise :class:`BadRequest` unless ``target`` is a form valid for ``method``."""
    if method == "CONNECT":
        # RFC 9112 section 3.2.3: CONNECT takes only the authority-form.
        check_authority(target, port_required=True)
        return
    first = target[:1]
    if first == b"/":
        if _ORIGIN_FORM.fullmatch(target) is None:
            raise BadRequest("invalid origin-form request-target")
        return
    if target == b"*":
        if method != "OPTIONS":
            raise BadRequest("asterisk-form request-target is only for OPTIONS")
        return
    m = _ABSOLUTE_FORM.fullmatch(target)
    if m is None:
        raise BadRequest("invalid request-target")
    # RFC 9110 sections 4.2.1/4.2.2: an http(s) URI needs a non-empty host;
    # a server has no use for other schemes' host-less forms either.
    check_authority(m[2], port_required=False)
