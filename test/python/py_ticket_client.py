"""Joins with ticket authentication (autobahn-python) and reports what the router answered.

Usage: py_ticket_client.py URL REALM SERIALIZER AUTHID TICKET
Prints {"challenge": {...}} when challenged, then either {"welcome": {...}} after WELCOME (and leaves) or
{"aborted": {"reason": ..., "message": ...}} when the router refuses the session. Exits 0 in both cases.
"""

import sys

from wamp_session import emit, run_authentication


def main():
    authid, ticket = sys.argv[4:]

    def answer(challenge):
        emit(challenge={"method": challenge.method, "extra": challenge.extra})
        return ticket

    run_authentication({"authmethods": ["ticket"], "authid": authid}, answer)


if __name__ == "__main__":
    main()
