"""A retained message through its life: stored, sent to a new subscriber, replaced by nothing, deleted.

Usage: mqtt_paho_retained.py HOST PORT v311|v5 TOPIC
1. The publisher sends "kept" retained (QoS 1); a subscriber that arrives afterwards receives it (RETAIN=1).
2. The publisher sends "live" not retained: that subscriber receives it with RETAIN=0.
3. The publisher sends an empty retained message (which deletes the retained one); the subscriber receives it too.
4. A third client subscribes, then the publisher sends "marker": the first thing it receives must be the marker.
"""

import sys

from mqtt_paho_common import PahoClient, broker_args, emit, message_to_json, run


def main():
    host, port, version, (topic,) = broker_args(sys.argv)
    publisher = PahoClient(host, port, version, client_id=topic.replace("/", "-") + "-pub")
    publisher.connect()
    publisher.publish(topic, b"kept", qos=1, retain=True)

    late = PahoClient(host, port, version, client_id=topic.replace("/", "-") + "-late")
    late.connect()
    late.subscribe(topic, 1)
    retained = late.next_message("the retained message")

    publisher.publish(topic, b"live", qos=1)
    live = late.next_message("the live message")

    publisher.publish(topic, b"", qos=1, retain=True)
    deletion = late.next_message("the empty retained message")

    after = PahoClient(host, port, version, client_id=topic.replace("/", "-") + "-after")
    after.connect()
    after.subscribe(topic, 1)
    publisher.publish(topic, b"marker", qos=1)
    first_after_delete = after.next_message("the marker")

    for client in (after, late, publisher):
        client.disconnect()
    emit(result={
        "retained": message_to_json(retained),
        "live": message_to_json(live),
        "deletion": message_to_json(deletion),
        "first_after_delete": message_to_json(first_after_delete),
    })


if __name__ == "__main__":
    run(main)
