#!/usr/bin/env python

# The manual prints Dog, Bob and Fred indented into the body of Pound, which
# cannot run: Pound.__init__ would not find Bob and Fred. This is the
# evidently intended program, with module-level classes. The bug in bark()
# (``name`` instead of ``self.name``) is the point of the example.

from circuits import Component, Event

class Bark(Event):
    """Bark Event"""

class Pound(Component):

    def __init__(self):
        super(Pound, self).__init__()

        self.bob = Bob().register(self)
        self.fred = Fred().register(self)

class Dog(Component):

    def started(self, *args):
        self.fire(Bark())

    def bark(self):
        print("Woof! I'm %s!" % name)  # noqa: F821 -- the deliberate bug

class Bob(Dog):
    """Bob"""

    channel = "bob"

class Fred(Dog):
    """Fred"""

    channel = "fred"

Pound().run()
