"""Compiled regular expressions for the HTTP/1.1 grammar.

Each pattern is built from the ABNF rule it implements, cited by section.
They run over whole lines or whole header blocks in C, so the parser needs no
per-byte Python loop.  All patterns work on bytes.
"""

from __future__ import annotations

import re

__all__ = [
    "TOKEN",
    "FIELD_VALUE",
    "HEADER_LINE",
    "HEADER_BLOCK",
    "REQUEST_LINE",
    "STATUS_LINE",
    "ANY_VERSION",
    "CHUNK_SIZE_LINE",
    "BLANK_LINE",
    "LEADING_BLANK_LINES",
    "TOKEN_FULL",
    "FIELD_VALUE_FULL",
    "TARGET_FULL",
    "REASON_FULL",
]

# RFC 9110 section 5.6.2:
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
#   token = 1*tchar
_TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
TOKEN = _TCHAR + rb"+"

# RFC 9110 section 5.5:
#   field-value   = *field-content
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
#   field-vchar   = VCHAR / obs-text        ; obs-text = %x80-FF
# CR, LF, NUL and the other CTLs are excluded, which rejects bare CR and
# header injection in one place.
_VCHAR = rb"[\x21-\x7e\x80-\xff]"
_VCHAR_OR_WS = rb"[\t\x20-\x7e\x80-\xff]"
FIELD_VALUE = rb"(?:" + _VCHAR + rb"(?:" + _VCHAR_OR_WS + rb"*" + _VCHAR + rb")?)?"

# RFC 9112 section 5:
#   field-line = field-name ":" OWS field-value OWS
# No whitespace is allowed between the name and the colon (section 5.1: a
# server MUST reject it with 400), and a line starting with SP/HTAB is
# obs-fold (section 5.2), which this pattern cannot match, so we reject it.
# The line ending is "\r?\n": RFC 9112 section 2.2 lets a recipient accept a
# bare LF as a line terminator.  We do, because old clients and hand-typed
# test sessions send it and it cannot be used for smuggling when every line
# (head, chunk, trailer) follows the same rule.  A bare CR is never accepted.
_HEADER_LINE = TOKEN + rb":[\t ]*" + FIELD_VALUE + rb"[\t ]*\r?\n"
HEADER_LINE = re.compile(rb"(" + TOKEN + rb"):[\t ]*(" + FIELD_VALUE + rb")[\t ]*\r?\n")
HEADER_BLOCK = re.compile(rb"(?:" + _HEADER_LINE + rb")*")

# RFC 9112 section 3:
#   request-line = method SP request-target SP HTTP-version
# section 2.3:  HTTP-version = HTTP-name "/" DIGIT "." DIGIT  (case-sensitive)
# The target forms of section 3.2 are all made of visible ASCII; anything
# else (whitespace, CTLs, obs-text) cannot be a URI and is rejected.
REQUEST_LINE = re.compile(rb"(" + TOKEN + rb") ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])\r?")

# RFC 9112 section 4:
#   status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# We also accept a missing SP after the status code, as many servers omit it.
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?\r?")

# Used only to tell "wrong major version" (505) from "garbage" (400).
ANY_VERSION = re.compile(rb"(?:\S+ \S+ )?HTTP/([0-9]+)\.([0-9]+)(?: .*)?\r?", re.S)

# RFC 9112 section 7.1:
#   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-size = 1*HEXDIG
#   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
# Extensions are ignored (section 7.1.1 allows it), but they must not hide
# CTLs or a bare CR.  The line passed in has its LF removed already.
CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?\r?")

# The empty line that ends a header or trailer section (RFC 9112 section 2.1).
BLANK_LINE = re.compile(rb"\n\r?\n")

# RFC 9112 section 2.2: a server SHOULD ignore at least one empty line
# received before the request-line.
LEADING_BLANK_LINES = re.compile(rb"(?:\r?\n)+")

# Full-string validators used by the writer.
TOKEN_FULL = re.compile(TOKEN)
FIELD_VALUE_FULL = re.compile(_VCHAR_OR_WS + rb"*")
TARGET_FULL = re.compile(rb"[\x21-\x7e]+")
REASON_FULL = re.compile(_VCHAR_OR_WS + rb"*")
