"""Derives an argon2id13 WAMP-SCRAM credential with argon2-cffi and hashlib (see scram_proof.py), apart from
the router's code, so that the tests can compare it with what fox-wamp derives with hash-wasm.

Usage: py_scram_credential.py PASSWORD SALT ITERATIONS MEMORY
SALT is base64, MEMORY in KiB. Prints one line of JSON: {"credential": {"kdf", "salt", "iterations", "memory",
"storedKey", "serverKey"}}, the keys in base64.
"""

import base64
import json
import sys

from scram_proof import argon2id13_salted_password, stored_keys


def main():
    password, salt, iterations, memory = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    stored_key, server_key = stored_keys(argon2id13_salted_password(password, salt, iterations, memory))
    credential = {
        "kdf": "argon2id13",
        "salt": salt,
        "iterations": iterations,
        "memory": memory,
        "storedKey": base64.b64encode(stored_key).decode("ascii"),
        "serverKey": base64.b64encode(server_key).decode("ascii"),
    }
    print(json.dumps({"credential": credential}), flush=True)


if __name__ == "__main__":
    main()
