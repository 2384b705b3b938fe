"""A persistent session: QoS 1 messages published while the client is away are delivered when it comes back.

Usage: mqtt_paho_persistent_session.py HOST PORT v311|v5 PREFIX
v3.1.1: CleanSession 0 throughout. v5: Clean Start 1 with Session Expiry Interval 300 the first time, Clean Start 0
when resuming. The client subscribes to PREFIX/queued at QoS 1 and disconnects; a publisher sends three QoS 1
messages; the client reconnects with the same client id. Afterwards the session is ended (a clean connect) so the
broker forgets it. Result: both CONNACKs, the SUBACK and the messages received after resuming.
"""

import sys

from mqtt_paho_common import PahoClient, broker_args, emit, message_to_json, run

SESSION_EXPIRY_S = 300


def session_client(host, port, version, client_id, clean):
    expiry = SESSION_EXPIRY_S if version == "v5" else None
    return PahoClient(host, port, version, client_id=client_id, clean=clean, session_expiry=expiry)


def main():
    host, port, version, (prefix,) = broker_args(sys.argv)
    client_id = prefix + "-persistent"
    topic = prefix + "/queued"

    # v3.1.1 creates a persistent session with CleanSession 0; v5 with a Session Expiry Interval (and starts clean).
    first = session_client(host, port, version, client_id, clean=(version == "v5"))
    first_connack = first.connect()
    granted = first.subscribe(topic, 1)
    first.disconnect()

    publisher = PahoClient(host, port, version, client_id=prefix + "-pub")
    publisher.connect()
    sent = ["queued %d" % number for number in (1, 2, 3)]
    for text in sent:
        publisher.publish(topic, text.encode("utf-8"), qos=1)
    publisher.disconnect()

    again = session_client(host, port, version, client_id, clean=False)
    resumed_connack = again.connect()
    queued = [message_to_json(message) for message in again.take_messages(len(sent), "the queued messages")]
    again.disconnect()

    # End the session: a clean connect discards it (v5: Session Expiry Interval 0 by default).
    ending = PahoClient(host, port, version, client_id=client_id, clean=True)
    ending.connect()
    ending.disconnect()

    emit(result={"first_connack": first_connack, "granted": granted, "sent": sent, "resumed_connack": resumed_connack, "queued": queued})


if __name__ == "__main__":
    run(main)
