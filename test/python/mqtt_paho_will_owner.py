"""A client with a Will Message that stays connected until it gets SIGTERM.

Usage: mqtt_paho_will_owner.py HOST PORT v311|v5 WILL_TOPIC WILL_TEXT drop|disconnect
Prints {"ready": ...} once connected. On SIGTERM:
- drop: the process ends at once without a DISCONNECT packet (the kernel closes the TCP connection, as when a
  device dies), so the broker must publish the Will Message;
- disconnect: it sends DISCONNECT (normal disconnection) and exits, so the broker must discard the Will Message.
"""

import os
import signal
import sys

from mqtt_paho_common import PahoClient, ScriptFailure, broker_args, emit, run


def main():
    host, port, version, (will_topic, will_text, mode) = broker_args(sys.argv)
    if mode not in ("drop", "disconnect"):
        raise ScriptFailure("the last argument is drop or disconnect, not %r" % mode)
    client = PahoClient(host, port, version, will={"topic": will_topic, "payload": will_text.encode("utf-8"), "qos": 1})
    connack = client.connect()

    def on_sigterm(_signum, _frame):
        if mode == "drop":
            os._exit(0)
        client.disconnect()
        emit(result={"disconnected": True})
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    emit(ready=connack)
    while True:
        signal.pause()


if __name__ == "__main__":
    run(main)
