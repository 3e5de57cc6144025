"""Unit tests of the pure parts: headers, ranges, query strings, URLs, forms, errors."""

from __future__ import annotations

import io

import pytest

from circuits.web import errors, exceptions, forms
from circuits.web.headers import AcceptElement, HeaderElement, Headers, header_elements, parse_headers
from circuits.web.utils import get_ranges, parse_qs, url
from circuits.web.wrappers import Request, Response

# -- Headers -------------------------------------------------------------------


def test_headers_are_case_insensitive_and_ordered():
    h = Headers([("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
    h.append("set-cookie", "b=2")
    assert h["content-type"] == h["CONTENT-TYPE"] == "text/plain"
    assert h.get("SET-COOKIE") == "a=1"
    assert h.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert h.keys() == ["Content-Type", "Set-Cookie", "set-cookie"]
    assert "content-type" in h and h.has_key("Content-Type") and "nope" not in h
    h["Set-Cookie"] = "c=3"
    assert h.get_all("set-cookie") == ["c=3"]
    del h["content-type"]
    assert h.items() == [("Set-Cookie", "c=3")]
    assert h.get("missing", "dflt") == "dflt"
    assert h.setdefault("X-A", "1") == "1" and h.setdefault("x-a", "2") == "1"
    with pytest.raises(KeyError):
        h["missing"]


def test_add_header_with_params():
    h = Headers()
    h.add_header("content-disposition", "attachment", filename="bud.gif", size=None)
    assert h["Content-Disposition"] == 'attachment; filename="bud.gif"; size'


def test_headers_from_raw_codec_pairs():
    h = Headers.from_raw([(b"host", b"example.com"), (b"x-forwarded-for", b"caf\xe9")])
    assert h["Host"] == "example.com"
    assert h.keys() == ["Host", "X-Forwarded-For"]
    assert h["x-forwarded-for"].encode("latin-1") == b"caf\xe9"  # octets kept as they were


@pytest.mark.parametrize(("value", "expected"), [
    ("text/html;level=1, text/*;q=0.3, */*;q=0.1, text/plain", ["text/html", "text/plain", "text/*", "*/*"]),
    ("gzip;q=1.0, identity; q=0.5, *;q=0", ["gzip", "identity", "*"]),
    ("a;q=bogus, b", ["b", "a"]),
])
def test_accept_elements_sorted_by_preference(value, expected):
    assert [e.value for e in header_elements("Accept", value)] == expected


def test_header_element_parse():
    assert HeaderElement.parse('form-data; name="a;b"; filename="x.txt"') == (
        "form-data", {"name": "a;b", "filename": "x.txt"})
    assert AcceptElement.from_str("text/html;q=0.5").qvalue == 0.5


def test_parse_headers():
    headers, rest = parse_headers(b"A: 1\r\nB: 2\r\n\r\nbody")
    assert headers["a"] == "1" and headers["b"] == "2" and rest == b"body"


# -- ranges, query strings, URLs -----------------------------------------------

RANGES = [
    ("bytes=3-6", 10, [(3, 7)]),
    ("bytes=3-", 10, [(3, 10)]),
    ("bytes=-4", 10, [(6, 10)]),
    ("bytes=-40", 10, [(0, 10)]),
    ("bytes=0-0,-1", 10, [(0, 1), (9, 10)]),
    ("bytes=8-100", 10, [(8, 10)]),
    ("bytes=10-20", 10, []),
    ("bytes=-0", 10, []),
    ("bytes=5-3", 10, None),
    ("bytes=x-3", 10, None),
    ("items=1-2", 10, None),
    ("bytes=", 10, None),
    (None, 10, None),
    ("bytes=" + ",".join(["1-2"] * 40), 10, None),
]


@pytest.mark.parametrize(("header", "length", "expected"), RANGES)
def test_get_ranges(header, length, expected):
    assert get_ranges(header, length) == expected


@pytest.mark.parametrize(("qs", "expected"), [
    ("a=1&b=2", {"a": "1", "b": "2"}),
    ("a=1&a=2&a=3", {"a": ["1", "2", "3"]}),
    ("blank=&x", {"blank": "", "x": ""}),
    ("name=%C3%A9t%C3%A9+x", {"name": "été x"}),
    ("", {}),
])
def test_parse_qs(qs, expected):
    assert parse_qs(qs) == expected


def test_parse_qs_bounds_the_field_count():
    with pytest.raises(exceptions.BadRequest):
        parse_qs("&".join(f"k{i}=v" for i in range(forms.MAX_FIELDS + 1)))


def _request(path="/a/b", qs=""):
    return Request(None, "GET", "http", path, (1, 1), qs, {"Host": "example.com:8080"})


@pytest.mark.parametrize(("path", "kwargs", "expected"), [
    ("", {}, "http://example.com:8080/a/b"),
    ("/x", {}, "http://example.com:8080/x"),
    ("c", {}, "http://example.com:8080/a/c"),
    ("../c", {}, "http://example.com:8080/c"),
    ("/x", {"qs": "q=1"}, "http://example.com:8080/x?q=1"),
    ("/x", {"relative": "server"}, "/x"),
    ("/a/c", {"relative": True}, "c"),
])
def test_url(path, kwargs, expected):
    assert url(_request(), path, **kwargs) == expected


# -- multipart -----------------------------------------------------------------


def _multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b"preamble\r\n"
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\nepilogue".encode()


@pytest.mark.parametrize("chunk", [1, 7, 64 * 1024])
def test_multipart_parse_across_read_boundaries(monkeypatch, chunk):
    monkeypatch.setattr(forms, "_CHUNK", chunk)
    body = _multipart("XyZ", [("a", None, b"1"), ("a", None, b"2"), ("f", "f.txt", b"--XyZ not\r\n--Xy" * 20),
                              ("empty", "e.bin", b"")])
    params = forms.parse_multipart(io.BytesIO(body), "XyZ")
    assert params["a"] == ["1", "2"]
    assert params["f"].filename == "f.txt" and params["f"].value == b"--XyZ not\r\n--Xy" * 20
    assert params["empty"].value == b""


@pytest.mark.parametrize(("body", "boundary"), [
    (b"no boundary here", "XyZ"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "XyZ"),
    (b"--XyZ\r\n", "bad boundary "),
])
def test_multipart_malformed(body, boundary):
    with pytest.raises(exceptions.BadRequest):
        forms.parse_multipart(io.BytesIO(body), boundary)


def test_multipart_field_size_bound(monkeypatch):
    monkeypatch.setattr(forms, "MAX_FIELD_SIZE", 10)
    with pytest.raises(exceptions.RequestEntityTooLarge):
        forms.parse_multipart(io.BytesIO(_multipart("B", [("a", None, b"x" * 100)])), "B")


# -- errors and exceptions ---------------------------------------------------


def test_error_page_escapes_everything():
    req = _request()
    res = Response(req)
    err = errors.httperror(req, res, 400, description="<script>alert(1)</script>")
    page = str(err)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert res.status == 400


def test_traceback_only_with_print_debug():
    req = _request()
    error = (ValueError, ValueError("internal detail"), ["  File x, line 1\n"])
    assert "internal detail" not in str(errors.httperror(req, Response(req), 500, error=error))
    req.print_debug = True
    assert "internal detail" in str(errors.httperror(req, Response(req), 500, error=error))


def test_json_error_page():
    req = _request()
    res = Response(req)
    res.headers["Content-Type"] = "application/json"
    assert str(errors.notfound(req, res)).startswith('{"code": 404')


def test_redirect_event():
    req = _request()
    res = Response(req)
    errors.redirect(req, res, "/elsewhere")
    assert res.status == 303 and res.headers["Location"] == "http://example.com:8080/elsewhere"
    res = Response(req)
    errors.redirect(req, res, ["x"], 301)
    assert res.headers["Location"] == "http://example.com:8080/a/x"
    with pytest.raises(ValueError):
        errors.redirect(req, Response(req), "/x", 200)


def test_every_error_event_is_named_httperror():
    for cls in (errors.forbidden, errors.notfound, errors.unauthorized, errors.redirect, errors.method_not_allowed):
        assert cls.name == "httperror"


@pytest.mark.parametrize(("cls", "code"), [
    (exceptions.BadRequest, 400), (exceptions.Unauthorized, 401), (exceptions.Forbidden, 403),
    (exceptions.NotFound, 404), (exceptions.MethodNotAllowed, 405), (exceptions.NotAcceptable, 406),
    (exceptions.RequestTimeout, 408), (exceptions.Gone, 410), (exceptions.LengthRequired, 411),
    (exceptions.PreconditionFailed, 412), (exceptions.RequestEntityTooLarge, 413),
    (exceptions.RequestURITooLarge, 414), (exceptions.UnsupportedMediaType, 415),
    (exceptions.InternalServerError, 500), (exceptions.NotImplemented, 501), (exceptions.BadGateway, 502),
    (exceptions.ServiceUnavailable, 503), (exceptions.UnicodeError, 400),
])
def test_exception_codes(cls, code):
    assert cls.code == code
    assert issubclass(cls, exceptions.HTTPException)
    assert exceptions.default_exceptions[code] in (cls, exceptions.BadRequest)


def test_method_not_allowed_and_redirect_exceptions():
    e = exceptions.MethodNotAllowed(["GET", "HEAD"])
    assert e.valid_methods == ["GET", "HEAD"]
    r = exceptions.Redirect("/x", 307)
    assert (r.urls, r.code) == (["/x"], 307)
    with pytest.raises(exceptions.NotFound):
        exceptions.abort(404)
