"""Joins with WAMP-Cryptosign (autobahn-python, PyNaCl) and reports what the router answered.

Usage: py_cryptosign_client.py URL REALM SERIALIZER AUTHID SEED
AUTHID "-" joins without an authid. SEED is the Ed25519 private key's 32-byte seed in hex; the key is
autobahn.wamp.cryptosign.CryptosignKey.from_bytes(seed), HELLO announces key.public_key() in
authextra.pubkey, and the challenge is answered with key.sign_challenge(challenge). Prints
{"challenge": {...}} when challenged, then either {"welcome": {...}} after WELCOME (and leaves) or
{"aborted": {"reason": ..., "message": ...}} when the router refuses the session. Exits 0 in both cases.
"""

import sys

import txaio

txaio.use_asyncio()

from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402

from wamp_session import emit, run_authentication  # noqa: E402


def main():
    authid, seed = sys.argv[4:]
    key = CryptosignKey.from_bytes(bytes.fromhex(seed))

    def answer(challenge):
        emit(challenge={"method": challenge.method, "extra": challenge.extra})
        # A future resolving to hex(signature || challenge); autobahn awaits it.
        return key.sign_challenge(challenge)

    run_authentication(
        {"authmethods": ["cryptosign"], "authid": None if authid == "-" else authid, "authextra": {"pubkey": key.public_key()}},
        answer,
    )


if __name__ == "__main__":
    main()
