"""WAMP-SCRAM's computations on the client side, written from the spec's "SCRAM Algorithms" with hashlib and
argon2-cffi (Debian: python3-argon2, the reference Argon2 C library), apart from the router's code.

Passwords are used as UTF-8 as they are: SASLprep changes nothing for the ASCII passwords of the tests.
"""

import base64
import hashlib
import hmac

KEY_BYTES = 32


def salted_password(password, extra):
    """SaltedPassword for a CHALLENGE's extra: its kdf, salt (base64), iterations and memory (KiB)."""
    kdf = extra["kdf"]
    if kdf == "argon2id13":
        return argon2id13_salted_password(password, extra["salt"], extra["iterations"], extra["memory"])
    if kdf == "pbkdf2":
        return hashlib.pbkdf2_hmac("sha256", password.encode("utf8"), base64.b64decode(extra["salt"]), extra["iterations"], KEY_BYTES)
    raise ValueError(f"unknown WAMP-SCRAM kdf {kdf!r}")


def argon2id13_salted_password(password, salt, iterations, memory):
    """Argon2id version 1.3 (0x13) with parallelism 1 and a 32-byte output, as the spec fixes them."""
    # Imported here: the pbkdf2 path needs no argon2-cffi.
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        secret=password.encode("utf8"),
        salt=base64.b64decode(salt),
        time_cost=iterations,
        memory_cost=memory,
        parallelism=1,
        hash_len=KEY_BYTES,
        type=Type.ID,
        version=0x13,
    )


def hmac_sha256(key, text):
    return hmac.new(key, text, hashlib.sha256).digest()


def stored_keys(salted):
    """(StoredKey, ServerKey) from the SaltedPassword."""
    client_key = hmac_sha256(salted, b"Client Key")
    return hashlib.sha256(client_key).digest(), hmac_sha256(salted, b"Server Key")


def auth_message(authid, client_nonce, extra):
    """The spec's AuthMessage without channel binding (c = base64("n,,"))."""
    username = authid.replace("=", "=3D").replace(",", "=2C")
    channel = base64.b64encode(b"n,,").decode("ascii")
    server_nonce = extra["nonce"]
    return (
        f"n={username},r={client_nonce},"
        f"r={server_nonce},s={extra['salt']},i={extra['iterations']},"
        f"c={channel},r={server_nonce}"
    ).encode("utf8")


def client_proof(authid, password, client_nonce, extra):
    """(ClientProof, ServerSignature), both base64: what AUTHENTICATE carries and what WELCOME must verify."""
    salted = salted_password(password, extra)
    client_key = hmac_sha256(salted, b"Client Key")
    stored_key, server_key = stored_keys(salted)
    message = auth_message(authid, client_nonce, extra)
    client_signature = hmac_sha256(stored_key, message)
    proof = bytes(a ^ b for a, b in zip(client_key, client_signature))
    verifier = hmac_sha256(server_key, message)
    return base64.b64encode(proof).decode("ascii"), base64.b64encode(verifier).decode("ascii")
