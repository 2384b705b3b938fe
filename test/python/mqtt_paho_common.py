"""Shared helpers for the paho-mqtt (Debian's python3-paho-mqtt 1.6.1) scripts the MQTT e2e tests run.

Every script takes HOST PORT VERSION first (VERSION is "v311" or "v5"), prints one JSON object per line on
stdout ({"ready": ...}, {"message": ...}, and finally {"result": ...}) and exits 0; on a failure it prints
{"error": "..."} and exits 1. The Node side (test/support/paho-process.ts) reads those lines.

`PahoClient` wraps one paho client whose network loop runs in its own thread, with blocking calls that wait for
the broker's answer (CONNACK, SUBACK, the end of a QoS handshake) and fail after WAIT_S seconds instead of hanging.
"""

import json
import queue
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

WAIT_S = 10

VERSIONS = {"v311": mqtt.MQTTv311, "v5": mqtt.MQTTv5}


class ScriptFailure(Exception):
    pass


def emit(**fields):
    print(json.dumps(fields), flush=True)


def broker_args(argv):
    """HOST PORT VERSION from the command line, and the remaining arguments."""
    if len(argv) < 4 or argv[3] not in VERSIONS:
        raise ScriptFailure("usage: %s HOST PORT v311|v5 ..." % argv[0])
    return argv[1], int(argv[2]), argv[3], argv[4:]


def run(main):
    """Runs main(), turning a failure into an {"error": ...} line and exit code 1."""
    try:
        main()
    except ScriptFailure as failure:
        emit(error=str(failure))
        sys.exit(1)


def wait(event, what):
    if not event.wait(WAIT_S):
        raise ScriptFailure("no %s within %d s" % (what, WAIT_S))


def publish_properties(response_topic=None, correlation_data=None, user_properties=()):
    properties = Properties(PacketTypes.PUBLISH)
    if response_topic is not None:
        properties.ResponseTopic = response_topic
    if correlation_data is not None:
        properties.CorrelationData = correlation_data
    for pair in user_properties:
        properties.UserProperty = tuple(pair)
    return properties


def properties_to_json(properties):
    """The MQTT 5 properties a test looks at, in JSON-friendly form (bytes as hex, user properties as pairs)."""
    if properties is None:
        return {}
    result = {}
    if hasattr(properties, "ResponseTopic"):
        result["response_topic"] = properties.ResponseTopic
    if hasattr(properties, "CorrelationData"):
        result["correlation_data_hex"] = bytes(properties.CorrelationData).hex()
    if hasattr(properties, "UserProperty"):
        result["user_properties"] = [list(pair) for pair in properties.UserProperty]
    if hasattr(properties, "ContentType"):
        result["content_type"] = properties.ContentType
    return result


def message_to_json(message):
    payload = bytes(message.payload)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "topic": message.topic,
        "payload_hex": payload.hex(),
        "text": text,
        "qos": message.qos,
        "retain": bool(message.retain),
        "properties": properties_to_json(getattr(message, "properties", None)),
    }


class PahoClient:
    """One paho client with its network loop in a thread; every received message lands in `messages`."""

    def __init__(self, host, port, version, client_id="", clean=True, session_expiry=None, will=None):
        self.host = host
        self.port = port
        self.version = version
        self.clean = clean
        self.session_expiry = session_expiry
        self.messages = queue.Queue()
        self._connected = threading.Event()
        self._connack = None
        self._subacks = {}
        self._suback_events = {}
        self._lock = threading.Lock()
        if version == "v5":
            self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        else:
            self.client = mqtt.Client(client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        if will is not None:
            self.client.will_set(will["topic"], will["payload"], qos=will.get("qos", 0), retain=will.get("retain", False))
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _client, _userdata, message: self.messages.put(message)

    def _on_connect(self, _client, _userdata, flags, code, _properties=None):
        self._connack = {"session_present": bool(flags.get("session present")), "code": code if isinstance(code, int) else code.value}
        self._connected.set()

    def _on_subscribe(self, _client, _userdata, mid, granted, _properties=None):
        codes = [code if isinstance(code, int) else code.value for code in granted]
        with self._lock:
            self._subacks[mid] = codes
            event = self._suback_events.setdefault(mid, threading.Event())
        event.set()

    def connect(self):
        """Connects, waits for the CONNACK, and returns {"session_present", "code"}; fails on a refusal."""
        if self.version == "v5":
            properties = None
            if self.session_expiry is not None:
                properties = Properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = self.session_expiry
            self.client.connect(self.host, self.port, keepalive=30, clean_start=self.clean, properties=properties)
        else:
            self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        wait(self._connected, "CONNACK")
        if self._connack["code"] != 0:
            raise ScriptFailure("the broker refused the connection: %r" % (self._connack,))
        return self._connack

    def subscribe(self, topic, qos):
        """Subscribes and returns the SUBACK's granted QoS / reason codes."""
        result, mid = self.client.subscribe(topic, qos)
        # The SUBACK can arrive before subscribe() returns its mid, so whichever side comes first creates the event.
        with self._lock:
            event = self._suback_events.setdefault(mid, threading.Event())
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise ScriptFailure("subscribe failed locally: %d" % result)
        wait(event, "SUBACK for %s" % topic)
        return self._subacks[mid]

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        """Publishes and waits until paho has completed the QoS handshake (PUBACK, PUBCOMP; QoS 0: sent)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(WAIT_S)
        if not info.is_published():
            raise ScriptFailure("the QoS %d publish to %s was not acknowledged within %d s" % (qos, topic, WAIT_S))

    def next_message(self, what="a message"):
        try:
            return self.messages.get(timeout=WAIT_S)
        except queue.Empty:
            raise ScriptFailure("no %s within %d s" % (what, WAIT_S))

    def take_messages(self, count, what="messages"):
        return [self.next_message("%s (%d of %d)" % (what, index + 1, count)) for index in range(count)]

    def disconnect(self):
        """A normal DISCONNECT, then the network loop stops."""
        self.client.disconnect()
        self.client.loop_stop()
