"""circuits + React, password protected by composing an Auth component.

The Comments controller is unchanged: Auth answers the request first, and
a request it answers (401) never reaches the controller.
"""
from os import environ
from json import dumps, loads
from hashlib import md5

from circuits import handler, Component
from circuits.web import Server, Controller, Static
from circuits.web.tools import check_auth, basic_auth


class Comments(Controller):

    channel = "/comments.json"

    def index(self, **data):
        with open("comments.json", "r") as f:
            comments = loads(f.read())

        if self.request.method == "POST":
            comments.append({"author": data["author"], "text": data["text"]})

            with open("comments.json", "w") as f:
                f.write(dumps(comments, indent=4, separators=(",", ": ")))

        self.response.headers["Content-Type"] = "application/json"
        self.response.headers["Cache-Control"] = "no-cache"

        return dumps(comments)


class Auth(Component):

    channel = "web"

    realm = "Comments"
    users = {"admin": md5(b"admin").hexdigest()}

    @handler("request", priority=1.0)
    def on_request(self, event, request, response):
        if request.path != "/comments.json":
            return

        if not check_auth(request, response, self.realm, self.users):
            return basic_auth(request, response, self.realm, self.users)


(Server(("", int(environ.get("PORT", 3000)))) + Auth() + Comments() + Static(docroot="public")).run()
