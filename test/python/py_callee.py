"""A callee in autobahn-python: registers procedures under com.py and stays until SIGTERM.

Usage: py_callee.py URL REALM SERIALIZER
Prints {"ready": true, "session": ID} once every procedure is registered.

- com.py.add(*numbers, label=None): the sum; with kwargs, also returns count and label as kwargs.
- com.py.fail(): raises an application error with its own URI, args and kwargs.
- com.py.reverse_bytes(data): the bytes reversed, with the Python type it received as kwarg "type".
"""

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult

from wamp_session import emit, run


def add(*numbers, **kwargs):
    total = sum(numbers)
    if not kwargs:
        return total
    return CallResult(total, count=len(numbers), label=kwargs.get("label"))


def fail(*args, **kwargs):
    raise ApplicationError("com.py.error.invalid_input", "python says no", len(args), field="amount", limit=10)


def reverse_bytes(data):
    return CallResult(bytes(reversed(data)) if isinstance(data, bytes) else data, type=type(data).__name__)


async def main(session, args):
    await session.register(add, "com.py.add")
    await session.register(fail, "com.py.fail")
    await session.register(reverse_bytes, "com.py.reverse_bytes")
    emit(ready=True, session=session.session_id)


if __name__ == "__main__":
    run(main, stay=True)
