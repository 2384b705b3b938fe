"""Joins with WAMP-SCRAM: an autobahn-python session, the proof computed here from the spec with hashlib.

Usage: py_scram_client.py URL REALM SERIALIZER AUTHID PASSWORD
autobahn-python 22.7's own AuthScram needs argon2-cffi and passlib (absent here) and builds another
AuthMessage than the spec's, so this script answers the CHALLENGE itself. autobahn-python sends AUTHENTICATE
without Extra, so the router must take the nonce from its own CHALLENGE. Prints {"challenge": {...}} and
{"expected": {"verifier": ...}} when challenged, then {"welcome": {...}} or {"aborted": {...}}. Exits 0 in
both cases.
"""

import base64
import hashlib
import hmac
import os
import sys

from wamp_session import emit, run_authentication


def main():
    authid, password = sys.argv[4:]
    client_nonce = base64.b64encode(os.urandom(16)).decode("ascii")

    def answer(challenge):
        extra = challenge.extra
        emit(challenge={"method": challenge.method, "extra": extra})
        server_nonce, salt, iterations = extra["nonce"], extra["salt"], extra["iterations"]
        salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf8"), base64.b64decode(salt), iterations, 32)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        username = authid.replace("=", "=3D").replace(",", "=2C")
        channel = base64.b64encode(b"n,,").decode("ascii")
        auth_message = (
            f"n={username},r={client_nonce},r={server_nonce},s={salt},i={iterations},c={channel},r={server_nonce}"
        ).encode("utf8")
        client_signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        verifier = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        emit(expected={"verifier": base64.b64encode(verifier).decode("ascii")})
        return base64.b64encode(proof).decode("ascii")

    run_authentication({"authmethods": ["wamp-scram"], "authid": authid, "authextra": {"nonce": client_nonce}}, answer)


if __name__ == "__main__":
    main()
