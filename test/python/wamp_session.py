"""Runs one autobahn-python (asyncio) WAMP session for the end-to-end tests.

The scripts beside this module take ``URL REALM SERIALIZER [...]`` on the command line and talk to the
test through stdout, one JSON object per line (``emit``). autobahn's own log goes to stderr.

Run them with Debian's interpreter, ``/usr/bin/python3``, which has python3-autobahn, -msgpack and -cbor2.
"""

import asyncio
import json
import signal
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402

# autobahn-python 22.7 knows these by the names json, msgpack and cbor (autobahn.wamp.serializer.SERID_TO_SER);
# ApplicationRunner wants serializer instances.
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}


def emit(**fields):
    """One line of JSON to the test, flushed at once (the test waits for it)."""
    print(json.dumps(fields), flush=True)


def run(body, stay=False):
    """Joins the realm and runs ``await body(session, args)``, where ``args`` are the arguments after the
    serializer. Then leaves, unless ``stay``: then the session lives until SIGTERM or SIGINT.
    An exception in ``body`` is reported as ``{"error": ...}`` and makes the exit status 1."""
    url, realm, serializer, *args = sys.argv[1:]
    txaio.start_logging(out=sys.stderr, level="warn")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    disconnected = loop.create_future()
    status = {"code": 0}
    joined = {}

    class Session(ApplicationSession):
        async def onJoin(self, details):
            joined["session"] = self
            try:
                await body(self, args)
            except Exception as error:  # report anything, the test shows it
                emit(error=repr(error))
                status["code"] = 1
                self.leave()
                return
            if not stay:
                self.leave()

        def onDisconnect(self):
            if not disconnected.done():
                disconnected.set_result(None)

    def stop():
        session = joined.get("session")
        if session is not None and session.is_attached():
            session.leave()
        elif not disconnected.done():
            disconnected.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)

    runner = ApplicationRunner(url, realm, serializers=[SERIALIZERS[serializer]()])
    try:
        loop.run_until_complete(runner.run(Session, start_loop=False))
        loop.run_until_complete(disconnected)
    except Exception as error:
        emit(error=repr(error))
        status["code"] = 1
    finally:
        loop.close()
    sys.exit(status["code"])


AUTH_DISCONNECT_TIMEOUT_S = 15


def run_authentication(join_options, answer_challenge):
    """One authentication attempt: joins with ``join_options`` (``authmethods``, ``authid``, ``authextra``),
    answers the CHALLENGE with ``answer_challenge(challenge)`` (a string, or an awaitable of one), and reports
    the outcome: ``{"welcome": {...}}`` after WELCOME (then leaves) or ``{"aborted": {"reason", "message"}}``
    when the router refuses the session. Exits 0 in both cases, 1 on anything unexpected.
    ``sys.argv`` starts with URL REALM SERIALIZER, as for ``run``."""
    url, realm, serializer = sys.argv[1:4]
    txaio.start_logging(out=sys.stderr, level="warn")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    disconnected = loop.create_future()

    class Session(ApplicationSession):
        joined = False

        def onConnect(self):
            self.join(self.config.realm, **join_options)

        def onChallenge(self, challenge):
            return answer_challenge(challenge)

        async def onJoin(self, details):
            self.joined = True
            emit(welcome={
                "session": details.session,
                "authid": details.authid,
                "authrole": details.authrole,
                "authmethod": details.authmethod,
                "authprovider": details.authprovider,
                "authextra": details.authextra,
            })
            self.leave()

        def onLeave(self, details):
            # An ABORT before WELCOME arrives here too, with the router's reason and message.
            if not self.joined:
                emit(aborted={"reason": details.reason, "message": details.message})
            self.disconnect()

        def onDisconnect(self):
            if not disconnected.done():
                disconnected.set_result(None)

    runner = ApplicationRunner(url, realm, serializers=[SERIALIZERS[serializer]()])
    try:
        loop.run_until_complete(runner.run(Session, start_loop=False))
        loop.run_until_complete(asyncio.wait_for(disconnected, AUTH_DISCONNECT_TIMEOUT_S))
    except Exception as error:  # report anything, the test shows it
        emit(error=repr(error))
        sys.exit(1)
    finally:
        loop.close()
