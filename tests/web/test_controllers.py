"""Controllers and the Dispatcher over real HTTP: routing, arguments, helpers, errors."""

from __future__ import annotations

import json

import pytest

from circuits import Component, Event, handler
from circuits.web import BaseServer, Controller, JSONController, expose, exposeJSON
from circuits.web.exceptions import Forbidden, MethodNotAllowed, NotFound, Redirect

from .helpers import serve


class Root(Controller):
    def index(self, *args, **kwargs):
        if args:
            return "index:" + "/".join(args)
        return "Hello World!"

    def add(self, a, b):
        return str(int(a) + int(b))

    def hello(self, name="World"):
        return f"Hello {name}!"

    def echo(self, **kwargs):
        return json.dumps(kwargs, sort_keys=True)

    @expose("index.html")
    def page(self):
        return "page"

    def whoami(self):
        return f"{self.request.method} {self.request.path} {self.response.status}"

    def visits(self):
        # The 3.x way: read and set through self.cookie.
        seen = self.cookie.get("visits")
        count = int(seen.value) + 1 if seen else 1
        self.cookie["visits"] = count
        self.cookie["visits"]["path"] = "/"
        if "bye" in self.cookie:
            del self.cookie["bye"]
        return f"visit {count} {sorted(self.cookie)}"

    def setcookie(self):
        self.response.cookie["flavour"] = "oatmeal"
        return "set"

    def getcookie(self):
        morsel = self.cookie.get("flavour")
        return morsel.value if morsel else "none"

    def go(self):
        return self.redirect("/hello")

    def secret(self):
        return self.forbidden("no")

    def missing(self):
        return self.notfound()

    def raise_notfound(self):
        raise NotFound("nothing here")

    def raise_forbidden(self):
        raise Forbidden()

    def raise_not_allowed(self):
        raise MethodNotAllowed(["GET", "HEAD"])

    def raise_redirect(self):
        raise Redirect("/hello", 301)

    def crash(self):
        raise RuntimeError("secret internals")

    def headers(self):
        self.response.headers["X-Custom"] = "yes"
        self.response.headers["Content-Type"] = "text/plain"
        return "headers"

    def nobody(self):
        self.response.body = "set through the response"

    def number(self):
        return 42

    def nothing(self):
        pass  # returns None and sets nothing: 404, as in 3.x

    def nocontent(self):
        self.response.status = 204  # returns None, but answered

    def query(req, test):  # noqa: N805 - 3.x controllers name the instance anything
        return f"query {test} {type(req).__name__}"

    def chunks(self):
        def gen():
            yield "one,"
            yield b"two,"
            yield "three"
        return gen()

    def _private(self):
        return "never"


class Api(JSONController):
    channel = "/api"

    def index(self):
        return {"ok": True}

    def item(self, n):
        return {"n": int(n)}


class Rest(Controller):
    channel = "/rest"

    def GET(self, *args):
        return "got " + ",".join(args)

    def POST(self, **kwargs):
        return "posted " + kwargs.get("x", "")


class Mixed(Controller):
    channel = "/mixed"

    @exposeJSON("data.json")
    def data(self):
        return [1, 2]


class ping(Event):
    pass


class Pinger(Component):
    channel = "pinger"

    def ping(self):
        return "pong"


class Coro(Controller):
    channel = "/coro"

    def index(self):
        value = yield self.call(ping(), "pinger")
        return f"{value.value} for {self.request.path}"


@pytest.fixture(scope="module")
def server():
    with serve(Root(), Api(), Rest(), Mixed(), Coro(), Pinger()) as running:
        yield running


ROUTES = [
    ("/", 200, b"Hello World!"),
    ("/add?a=2&b=40", 200, b"42"),
    ("/add/5/6", 200, b"11"),
    ("/add/5?b=6", 200, b"11"),
    ("/hello", 200, b"Hello World!"),
    ("/hello/Bob", 200, b"Hello Bob!"),
    ("/hello?name=Al%20ice", 200, b"Hello Al ice!"),
    ("/hello?name=x&unused=1", 200, b"Hello x!"),
    ("/index.html", 200, b"page"),
    ("/a/b/c", 200, b"index:a/b/c"),
    ("/whoami", 200, b"GET /whoami 200"),
    ("/number", 200, b"42"),
    ("/nothing", 404, None),
    ("/nocontent", 204, b""),
    ("/query?test=1", 200, b"query 1 Root"),
    ("/nobody", 200, b"set through the response"),
    ("/chunks", 200, b"one,two,three"),
    ("/api", 200, b'{"ok": true}'),
    ("/api/item/7", 200, b'{"n": 7}'),
    ("/rest/x/y", 200, b"got x,y"),
    ("/mixed/data.json", 200, b"[1, 2]"),
    ("/coro", 200, b"pong for /coro"),
    ("/add?a=1", 400, None),
    ("/_private", 200, b"index:_private"),
    ("/raise_notfound", 404, None),
    ("/raise_forbidden", 403, None),
    ("/secret", 403, None),
    ("/missing", 404, None),
]


@pytest.mark.parametrize(("path", "status", "body"), ROUTES, ids=[r[0] for r in ROUTES])
def test_routes(server, path, status, body):
    res, data = server.get(path)
    assert res.status == status, data
    if body is not None:
        assert data == body


def test_raised_method_not_allowed_lists_the_allowed_methods(server):
    # RFC 9110 section 15.5.6: a 405 must carry an Allow header.
    res, data = server.get("/raise_not_allowed")
    assert res.status == 405
    assert res.getheader("Allow") == "GET, HEAD"
    assert b"Allow header" in data


def test_json_controller_sets_content_type(server):
    res, _ = server.get("/api")
    assert res.getheader("Content-Type") == "application/json"


def test_unknown_path_is_404(server):
    class Only(Controller):
        channel = "/only"

        def index(self):
            return "x"

    with serve(Only()) as s:
        res, data = s.get("/elsewhere")
        assert res.status == 404
        assert b"404" in data


def test_form_post_fills_keyword_arguments(server):
    res, data = server.request("POST", "/echo?q=1", body="a=1&b=2&b=3",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert res.status == 200
    assert json.loads(data) == {"a": "1", "b": ["2", "3"], "q": "1"}


def test_rest_post(server):
    res, data = server.request("POST", "/rest", body="x=7",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert data == b"posted 7"


def test_custom_headers(server):
    res, data = server.get("/headers")
    assert res.getheader("X-Custom") == "yes"
    assert res.getheader("Content-Type") == "text/plain"


def test_cookies_round_trip(server):
    res, _ = server.get("/setcookie")
    cookie = res.getheader("Set-Cookie")
    assert cookie.startswith("flavour=oatmeal")
    res, data = server.get("/getcookie", headers={"Cookie": "flavour=oatmeal"})
    assert data == b"oatmeal"


def test_cookies_set_through_self_cookie_go_back_to_the_client(server):
    res, data = server.get("/visits")
    assert data == b"visit 1 ['visits']"
    assert res.getheader("Set-Cookie") == "visits=1; Path=/"
    res, data = server.get("/visits", headers={"Cookie": "visits=1; bye=x"})
    assert data == b"visit 2 ['bye', 'visits']"
    assert sorted(res.headers.get_all("Set-Cookie")) == ['bye=""; Max-Age=0', "visits=2; Path=/"]


@pytest.mark.parametrize(("path", "status", "location"), [
    ("/go", 303, "/hello"),
    ("/raise_redirect", 301, "/hello"),
])
def test_redirects(server, path, status, location):
    res, _ = server.get(path)
    assert res.status == status
    assert res.getheader("Location") == f"http://127.0.0.1:{server.port}{location}"


def test_exception_is_500_without_traceback_and_server_keeps_serving(server, capfd):
    res, data = server.get("/crash")
    assert res.status == 500
    assert b"secret internals" not in data
    assert b"Traceback" not in data
    res, data = server.get("/")
    assert data == b"Hello World!"
    err = capfd.readouterr().err
    assert "RuntimeError" in err and "secret internals" in err  # logged instead


def test_head_has_same_headers_and_no_body(server):
    conn = server.conn()
    conn.request("GET", "/")
    get = conn.getresponse()
    get_body = get.read()
    conn.request("HEAD", "/")
    head = conn.getresponse()
    assert head.read() == b""
    assert head.getheader("Content-Length") == get.getheader("Content-Length") == str(len(get_body))
    assert head.getheader("Content-Type") == get.getheader("Content-Type")
    conn.close()


def test_keep_alive_reuses_one_connection(server):
    conn = server.conn()
    for i in range(20):
        conn.request("GET", f"/hello/{i}")
        res = conn.getresponse()
        assert res.read() == f"Hello {i}!".encode()
    assert conn.sock is not None
    conn.close()


def test_base_server_with_request_handler():
    class Root(Component):
        def request(self, request, response):
            return "Hello World!"

    app = BaseServer(("127.0.0.1", 0)) + Root()
    app.start()
    try:
        from .helpers import Running
        res, data = Running(app).get("/anything")
        assert (res.status, data) == (200, b"Hello World!")
    finally:
        app.stop()
        app.join(5)


def test_request_handler_returning_error_stops_later_handlers():
    calls = []

    class Guard(Component):
        channel = "web"

        @handler("request", priority=1.0)
        def guard(self, event, request, response):
            if request.path == "/locked":
                from circuits.web.errors import forbidden
                return forbidden(request, response)

    class Root(Controller):
        def locked(self):
            calls.append("ran")
            return "secret"

        def index(self):
            return "open"

    with serve(Guard(), Root()) as s:
        res, _ = s.get("/locked")
        assert res.status == 403
        res, data = s.get("/")
        assert data == b"open"
    assert calls == []


def test_request_handler_that_raises_stops_later_handlers():
    calls = []

    class Broken(Component):
        channel = "web"

        @handler("request", priority=1.0)
        def broken(self, request, response):
            raise ValueError("boom")

    class Root(Controller):
        def index(self):
            calls.append("ran")
            return "x"

    with serve(Broken(), Root()) as s:
        res, _ = s.get("/")
        assert res.status == 500
    assert calls == []


def test_controllers_registered_before_the_server():
    from circuits import Manager

    class Root(Controller):
        def index(self):
            return "early"

    from circuits.web import Server
    app = Manager()
    Root().register(app)
    server = Server(("127.0.0.1", 0)).register(app)
    app.start()
    try:
        from .helpers import Running
        running = Running(server)
        res, data = running.get("/")
        assert data == b"early"
    finally:
        app.stop()
        app.join(5)


class answer(Event):
    pass


class Answerer(Component):
    channel = "answers"

    def answer(self, text):
        return text.upper()


class Delegating(Component):
    """A request handler that answers with the Value of an event it fires."""

    channel = "web"

    @handler("request", priority=1.0)
    def on_request(self, request, response):
        if request.path == "/delegate":
            return self.fire(answer("delegated"), "answers")


def test_request_handler_may_return_another_events_value():
    with serve(Delegating(), Answerer()) as s:
        res, data = s.get("/delegate")
        assert (res.status, data) == (200, b"DELEGATED")


def test_header_value_with_line_break_is_500_not_injection(capfd):
    class Bad(Controller):
        def index(self, v=""):
            self.response.headers["X-Echo"] = v
            return "x"

    with serve(Bad()) as s:
        res, data = s.get("/?v=a%0d%0aSet-Cookie:%20evil=1")
        assert res.status == 500
        assert res.getheader("Set-Cookie") is None
        res, data = s.get("/?v=fine")
        assert res.getheader("X-Echo") == "fine"
    assert "invalid header field value" in capfd.readouterr().err


def test_handler_firing_its_own_answer_gets_no_404_on_top():
    from circuits.web.errors import forbidden
    from circuits.web.events import response as response_event

    class Firing(Component):
        channel = "web"

        @handler("request", priority=1.0)
        def on_request(self, request, response):
            if request.path == "/fired-error":
                self.fire(forbidden(request, response), "web")
            elif request.path == "/fired-response":
                response.body = "fired"
                self.fire(response_event(response), "web")
            else:
                return None
            return None

    with serve(Firing()) as s:
        res, _ = s.get("/fired-error")
        assert res.status == 403
        res, data = s.get("/fired-response")
        assert (res.status, data) == (200, b"fired")
        res, _ = s.get("/other")
        assert res.status == 404
