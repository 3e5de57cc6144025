"""Multipart parsing does not depend on how its body file hands out bytes (issue 12, item 3).

The part-header cap once held only when the end of the headers was not in
the first 64 KiB read; every result here must be the same whatever sizes
the reads return.
"""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuits.web.exceptions import HTTPException
from circuits.web.forms import MAX_PART_HEADERS, UploadedFile, parse_multipart


class Trickle(io.RawIOBase):
    """A file whose reads return at most the next of ``sizes`` bytes (cycling)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.sizes = sizes or [1 << 20]
        self.i = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        size = self.sizes[self.i % len(self.sizes)]
        self.i += 1
        take = min(size, n if n >= 0 else len(self.data)) or 1
        out = bytes(self.data[self.pos:self.pos + take])
        self.pos += len(out)
        return out


def _outcome(fp) -> object:
    try:
        fields = parse_multipart(fp, "B")
    except HTTPException as e:
        return ("error", e.code)
    return {k: _plain(v) for k, v in fields.items()}


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return (value.filename, value.value) if isinstance(value, UploadedFile) else value


_header_pad = st.sampled_from([0, 10, MAX_PART_HEADERS - 60, MAX_PART_HEADERS - 40, MAX_PART_HEADERS + 10, 40000])
_part = st.builds(
    lambda name, pad, value, file: (
        b"--B\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\""
        + (b'; filename="f.txt"' if file else b"") + b"; x=\"" + b"p" * pad + b"\"\r\n\r\n" + value + b"\r\n"),
    st.sampled_from(["a", "b", "c"]), _header_pad, st.binary(max_size=40).filter(lambda v: b"--B" not in v),
    st.booleans(),
)
_body = st.lists(_part, min_size=1, max_size=3).map(lambda parts: b"".join(parts) + b"--B--\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=_body, sizes=st.lists(st.integers(min_value=1, max_value=70000), max_size=5))
def test_multipart_results_do_not_depend_on_read_sizes(body: bytes, sizes: list[int]) -> None:
    assert _outcome(Trickle(body, sizes)) == _outcome(io.BytesIO(body))


def test_part_headers_at_and_beyond_the_cap():
    def body(pad: int) -> bytes:
        head = b'Content-Disposition: form-data; name="a"; x="' + b"p" * pad + b'"'
        return b"--B\r\n" + head + b"\r\n\r\nv\r\n--B--\r\n", len(head)

    ok, size = body(MAX_PART_HEADERS - 46)
    assert size == MAX_PART_HEADERS and _outcome(io.BytesIO(ok)) == {"a": "v"}
    assert _outcome(Trickle(ok, [1, 7, 4096])) == {"a": "v"}
    big, size = body(MAX_PART_HEADERS - 45)
    assert size == MAX_PART_HEADERS + 1
    assert _outcome(io.BytesIO(big)) == ("error", 400) == _outcome(Trickle(big, [3]))
