"""circuits + React: the comments backend of the React tutorial.

Run it from a directory holding comments.json and public/ (this one does):
    cd examples/web && python react_comments.py
"""
from os import environ
from json import dumps, loads

from circuits.web import Server, Controller, Static


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


(Server(("", int(environ.get("PORT", 3000)))) + Comments() + Static(docroot="public")).run()
