"""Subscribes and reports every message until one with a given text arrives.

Usage: mqtt_paho_collect.py HOST PORT v311|v5 FILTER QOS UNTIL_TEXT
Prints {"ready": {"granted": [...]}} once subscribed, {"message": {...}} per message, and at the end
{"result": {"messages": [...]}} (the last one being the one whose text is UNTIL_TEXT).
"""

import sys

from mqtt_paho_common import PahoClient, broker_args, emit, message_to_json, run


def main():
    host, port, version, (topic_filter, qos, until_text) = broker_args(sys.argv)
    client = PahoClient(host, port, version)
    client.connect()
    emit(ready={"granted": client.subscribe(topic_filter, int(qos))})
    messages = []
    while True:
        message = message_to_json(client.next_message("a message on %s" % topic_filter))
        messages.append(message)
        emit(message=message)
        if message["text"] == until_text:
            break
    client.disconnect()
    emit(result={"messages": messages})


if __name__ == "__main__":
    run(main)
