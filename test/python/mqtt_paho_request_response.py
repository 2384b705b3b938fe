"""MQTT 5 request/response between two paho clients: Response Topic, Correlation Data and User Properties.

Usage: mqtt_paho_request_response.py HOST PORT v5 PREFIX
The requester subscribes to PREFIX/reply and publishes a request to PREFIX/request with a Response Topic, binary
Correlation Data and User Properties (one name twice, so order and duplicates matter). The responder answers on the
request's Response Topic with the same Correlation Data. Result: the request and the reply as received.
"""

import sys

from mqtt_paho_common import PahoClient, ScriptFailure, broker_args, emit, message_to_json, publish_properties, run

CORRELATION = bytes([0x00, 0x01, 0xFE, 0xFF]) + b"req-42"
USER_PROPERTIES = [("trace", "first"), ("lang", "python"), ("trace", "second")]


def main():
    host, port, version, (prefix,) = broker_args(sys.argv)
    if version != "v5":
        raise ScriptFailure("request/response properties need MQTT v5")
    responder = PahoClient(host, port, version, client_id=prefix + "-responder")
    responder.connect()
    responder.subscribe(prefix + "/request", 1)

    requester = PahoClient(host, port, version, client_id=prefix + "-requester")
    requester.connect()
    requester.subscribe(prefix + "/reply", 1)
    request_properties = publish_properties(response_topic=prefix + "/reply", correlation_data=CORRELATION, user_properties=USER_PROPERTIES)
    requester.publish(prefix + "/request", b'{"add":[2,3]}', qos=1, properties=request_properties)

    request = responder.next_message("the request")
    reply_properties = publish_properties(correlation_data=request.properties.CorrelationData, user_properties=[("handled-by", "responder")])
    responder.publish(request.properties.ResponseTopic, b"5", qos=1, properties=reply_properties)
    reply = requester.next_message("the reply")

    requester.disconnect()
    responder.disconnect()
    emit(result={
        "sent": {"correlation_data_hex": CORRELATION.hex(), "user_properties": [list(pair) for pair in USER_PROPERTIES]},
        "request": message_to_json(request),
        "reply": message_to_json(reply),
    })


if __name__ == "__main__":
    run(main)
