"""2.x module paths: ``circuits.net.protocols.{http,irc,line}`` (see circuits.protocols)."""
