"""QoS 0, 1 and 2 through the broker between two paho clients.

Usage: mqtt_paho_roundtrip.py HOST PORT v311|v5 PREFIX
A subscriber takes PREFIX/# at QoS 2; a publisher sends one message per QoS to PREFIX/q0, PREFIX/q1, PREFIX/q2
(each with a binary tail) and waits for each QoS handshake to complete. Result: the SUBACK, what was sent and what
the subscriber received.
"""

import sys

from mqtt_paho_common import PahoClient, broker_args, emit, message_to_json, run


def main():
    host, port, version, (prefix,) = broker_args(sys.argv)
    subscriber = PahoClient(host, port, version, client_id=prefix + "-sub")
    subscriber.connect()
    granted = subscriber.subscribe(prefix + "/#", 2)

    publisher = PahoClient(host, port, version, client_id=prefix + "-pub")
    publisher.connect()
    sent = []
    for qos in (0, 1, 2):
        topic = "%s/q%d" % (prefix, qos)
        payload = ("qos %d from paho " % qos).encode("utf-8") + bytes([0x00, 0xFF, qos])
        publisher.publish(topic, payload, qos=qos)
        sent.append({"topic": topic, "payload_hex": payload.hex(), "qos": qos})

    received = [message_to_json(message) for message in subscriber.take_messages(3, "the three messages")]
    publisher.disconnect()
    subscriber.disconnect()
    emit(result={"granted": granted, "sent": sent, "received": received})


if __name__ == "__main__":
    run(main)
