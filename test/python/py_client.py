"""A caller, subscriber and publisher in autobahn-python, against procedures and topics a Node test provides.

Usage: py_client.py URL REALM SERIALIZER PREFIX
The Node side registers PREFIX.greet, PREFIX.fail and PREFIX.reverse (bytes), subscribes to PREFIX.from_python,
and publishes to PREFIX.news once this script prints {"subscribed": true}.
At the end the script prints {"result": {...}} with everything it saw, and leaves.
"""

import asyncio

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from wamp_session import emit, run

EVENT_TIMEOUT_S = 10


async def main(session, args):
    (prefix,) = args
    result = {}

    greeting = await session.call(prefix + ".greet", "python", punctuation="!")
    result["greet"] = {"args": list(greeting.results), "kwargs": greeting.kwresults}

    try:
        await session.call(prefix + ".fail", 1, 2)
        result["fail"] = "no error"
    except ApplicationError as error:
        result["fail"] = {"error": error.error, "args": list(error.args), "kwargs": error.kwargs}

    # Over JSON, autobahn-python sends bytes as the spec's "\0" + base64 string and decodes them back.
    reversed_bytes = await session.call(prefix + ".reverse", b"\x00\x01\xfe\xff")
    is_bytes = isinstance(reversed_bytes, bytes)
    result["reverse"] = {"type": type(reversed_bytes).__name__, "hex": reversed_bytes.hex() if is_bytes else repr(reversed_bytes)}

    news = asyncio.get_running_loop().create_future()

    def on_news(*event_args, **event_kwargs):
        if not news.done():
            news.set_result({"args": list(event_args), "kwargs": event_kwargs})

    await session.subscribe(on_news, prefix + ".news")
    emit(subscribed=True)
    result["news"] = await asyncio.wait_for(news, EVENT_TIMEOUT_S)

    publication = await session.publish(prefix + ".from_python", "hi", 42, ok=True, options=PublishOptions(acknowledge=True))
    result["publication_id"] = publication.id

    emit(result=result)


if __name__ == "__main__":
    run(main)
