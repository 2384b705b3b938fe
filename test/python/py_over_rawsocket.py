"""Runs another script of this directory with a RawSocket URL, after fixing up autobahn-python's RawSocket client.

Usage: py_over_rawsocket.py SCRIPT rs://HOST:PORT REALM SERIALIZER [...]

autobahn-python 22.7 (Debian's python3-autobahn) has an asyncio RawSocket client whose protocol lacks the
``transport_details`` property of autobahn's ITransport interface (the WebSocket protocol has it). Every session
then fails in onWelcome with ``AttributeError: ... has no attribute 'transport_details'``. This adds the property,
returning what the protocol already keeps in ``_transport_details``, and runs SCRIPT as ``__main__`` with the
remaining arguments. On a release that has the property this changes nothing.
"""

import runpy
import sys

from autobahn.asyncio.rawsocket import WampRawSocketClientProtocol

if not hasattr(WampRawSocketClientProtocol, "transport_details"):
    WampRawSocketClientProtocol.transport_details = property(lambda protocol: protocol._transport_details)

if __name__ == "__main__":
    script, *arguments = sys.argv[1:]
    sys.argv = [script, *arguments]
    runpy.run_path(script, run_name="__main__")
