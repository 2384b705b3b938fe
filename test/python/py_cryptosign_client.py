"""Joins with WAMP-Cryptosign (autobahn-python, PyNaCl) and reports what the router answered.

Usage: py_cryptosign_client.py URL REALM SERIALIZER AUTHID SEED
AUTHID "-" joins without an authid. SEED is the Ed25519 private key's 32-byte seed in hex; the key is
autobahn.wamp.cryptosign.CryptosignKey.from_bytes(seed), HELLO announces key.public_key() in
authextra.pubkey, and the challenge is answered with key.sign_challenge(challenge). Prints
{"challenge": {...}} when challenged, then either {"welcome": {...}} after WELCOME (and leaves) or
{"aborted": {"reason": ..., "message": ...}} when the router refuses the session. Exits 0 in both cases.
"""

import asyncio
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession  # noqa: E402
from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402

from wamp_session import SERIALIZERS, emit  # noqa: E402

DISCONNECT_TIMEOUT_S = 15


def main():
    url, realm, serializer, authid, seed = sys.argv[1:]
    key = CryptosignKey.from_bytes(bytes.fromhex(seed))
    txaio.start_logging(out=sys.stderr, level="warn")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    disconnected = loop.create_future()

    class Session(ApplicationSession):
        joined = False

        def onConnect(self):
            self.join(self.config.realm, authmethods=["cryptosign"], authid=None if authid == "-" else authid,
                      authextra={"pubkey": key.public_key()})

        def onChallenge(self, challenge):
            emit(challenge={"method": challenge.method, "extra": challenge.extra})
            # A future resolving to hex(signature || challenge); autobahn awaits it.
            return key.sign_challenge(challenge)

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
