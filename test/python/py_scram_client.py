"""Joins with WAMP-SCRAM: an autobahn-python session, the proof computed here from the spec (scram_proof.py:
hashlib for pbkdf2, argon2-cffi for argon2id13).

Usage: py_scram_client.py URL REALM SERIALIZER AUTHID PASSWORD
autobahn-python 22.7's own AuthScram follows an older draft: it asks for authmethod "scram" and kdf
"argon2id-13", keys its HMACs with the base64 text of the Argon2 hash rather than its bytes, builds its
AuthMessage with "c=" instead of "c=biws" and reads WELCOME's "scram_server_signature". So this script answers
the CHALLENGE itself. autobahn-python sends AUTHENTICATE without Extra, so the router must take the nonce from
its own CHALLENGE. Prints {"challenge": {...}} and {"expected": {"verifier": ...}} when challenged, then
{"welcome": {...}} or {"aborted": {...}}. Exits 0 in both cases.
"""

import base64
import os
import sys

from scram_proof import client_proof
from wamp_session import emit, run_authentication


def main():
    authid, password = sys.argv[4:]
    client_nonce = base64.b64encode(os.urandom(16)).decode("ascii")

    def answer(challenge):
        emit(challenge={"method": challenge.method, "extra": challenge.extra})
        proof, verifier = client_proof(authid, password, client_nonce, challenge.extra)
        emit(expected={"verifier": verifier})
        return proof

    run_authentication({"authmethods": ["wamp-scram"], "authid": authid, "authextra": {"nonce": client_nonce}}, answer)


if __name__ == "__main__":
    main()
