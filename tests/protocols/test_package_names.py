"""The components 3.x code imports from circuits.protocols itself."""

from __future__ import annotations


def test_protocol_components_are_importable_from_the_package():
    from circuits.protocols import IRC, LP, Line
    from circuits.protocols.irc import IRC as IRC2
    from circuits.protocols.line import Line as Line2
    assert (IRC, Line, LP) == (IRC2, Line2, Line2)
