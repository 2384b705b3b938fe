"""A callee in autobahn-python whose procedure takes its time, for the call canceling and timeout tests.

Usage: py_slow_callee.py URL REALM SERIALIZER PROCEDURE
Registers PROCEDURE and prints {"ready": true, "session": ID}; stays until SIGTERM.

PROCEDURE(label, seconds) sleeps `seconds`, then returns `label`. It reports each step on stdout as a line
whose key names the step and the label, so a test can wait for exactly that step: {"started:LABEL": true} on
entry, then {"finished:LABEL": true} if the sleep ran out, or {"interrupted:LABEL": true} if the router's
INTERRUPT cancelled it (autobahn-python cancels the handler's asyncio task, raising CancelledError in it).

An interrupted handler answers with ERROR wamp.error.canceled, as a callee should for mode "kill": left to
itself, autobahn-python 22.7 on asyncio lets the CancelledError escape txaio's callback and sends nothing.
autobahn-python announces callee.features.call_canceling in its HELLO.
"""

import asyncio

from autobahn.wamp.exception import ApplicationError

from wamp_session import emit, run


def step(name, label):
    emit(**{f"{name}:{label}": True})


async def slow(label, seconds):
    step("started", label)
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        step("interrupted", label)
        raise ApplicationError(ApplicationError.CANCELED, f"{label} was interrupted")
    step("finished", label)
    return label


async def main(session, args):
    (procedure,) = args
    await session.register(slow, procedure)
    emit(ready=True, session=session.session_id)


if __name__ == "__main__":
    run(main, stay=True)
