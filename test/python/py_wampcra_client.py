"""Joins with WAMP-CRA (autobahn-python) and reports what the router answered.

Usage: py_wampcra_client.py URL REALM SERIALIZER AUTHID SECRET
Signs the challenge with autobahn.wamp.auth.compute_wcs; when the challenge carries a salt, the key is first
derived from SECRET with autobahn.wamp.auth.derive_key. Prints {"challenge": {...}} when challenged, then
either {"welcome": {...}} after WELCOME (and leaves) or {"aborted": {"reason": ..., "message": ...}} when the
router refuses the session. Exits 0 in both cases.
"""

import json
import sys

import txaio

txaio.use_asyncio()

from autobahn.wamp import auth  # noqa: E402

from wamp_session import emit, run_authentication  # noqa: E402


def main():
    authid, secret = sys.argv[4:]

    def answer(challenge):
        extra = challenge.extra
        emit(challenge={"method": challenge.method, "extra": {**extra, "challenge": json.loads(extra["challenge"])}})
        key = secret
        if "salt" in extra:
            key = auth.derive_key(secret, extra["salt"], extra["iterations"], extra["keylen"])
        return auth.compute_wcs(key, extra["challenge"]).decode("ascii")

    run_authentication({"authmethods": ["wampcra"], "authid": authid}, answer)


if __name__ == "__main__":
    main()
