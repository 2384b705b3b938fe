"""Publishes one message and waits for the QoS handshake to complete.

Usage: mqtt_paho_publish.py HOST PORT v311|v5 TOPIC TEXT QOS
"""

import sys

from mqtt_paho_common import PahoClient, broker_args, emit, run


def main():
    host, port, version, (topic, text, qos) = broker_args(sys.argv)
    client = PahoClient(host, port, version)
    client.connect()
    client.publish(topic, text.encode("utf-8"), qos=int(qos))
    client.disconnect()
    emit(result={"published": True})


if __name__ == "__main__":
    run(main)
