"""Joins with WAMP-CRA (autobahn-python) and reports what the router answered.

Usage: py_wampcra_client.py URL REALM SERIALIZER AUTHID SECRET
Signs the challenge with autobahn.wamp.auth.compute_wcs; when the challenge carries a salt, the key is first
derived from SECRET with autobahn.wamp.auth.derive_key. Prints {"challenge": {...}} when challenged, then
either {"welcome": {...}} after WELCOME (and leaves) or {"aborted": {"reason": ..., "message": ...}} when the
router refuses the session. Exits 0 in both cases.
"""

import asyncio
import json
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession  # noqa: E402
from autobahn.wamp import auth  # noqa: E402

from wamp_session import SERIALIZERS, emit  # noqa: E402

DISCONNECT_TIMEOUT_S = 15


def main():
    url, realm, serializer, authid, secret = sys.argv[1:]
    txaio.start_logging(out=sys.stderr, level="warn")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    disconnected = loop.create_future()

    class Session(ApplicationSession):
        joined = False

        def onConnect(self):
            self.join(self.config.realm, authmethods=["wampcra"], authid=authid)

        def onChallenge(self, challenge):
            extra = challenge.extra
            emit(challenge={"method": challenge.method, "extra": {**extra, "challenge": json.loads(extra["challenge"])}})
            key = secret
            if "salt" in extra:
                key = auth.derive_key(secret, extra["salt"], extra["iterations"], extra["keylen"])
            return auth.compute_wcs(key, extra["challenge"]).decode("ascii")

        async def onJoin(self, details):
            self.joined = True
            emit(welcome={
                "session": details.session,
                "authid": details.authid,
                "authrole": details.authrole,
                "authmethod": details.authmethod,
                "authprovider": details.authprovider,
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
        loop.run_until_complete(asyncio.wait_for(disconnected, DISCONNECT_TIMEOUT_S))
    except Exception as error:  # report anything, the test shows it
        emit(error=repr(error))
        sys.exit(1)
    finally:
        loop.close()


if __name__ == "__main__":
    main()
