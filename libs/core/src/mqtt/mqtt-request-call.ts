import type { RouterLogger } from '../router/logger.js';
import type { MessageProperties, Payload } from '../router/payload.js';
import type { Realm } from '../router/realm.js';
import type { Session } from '../router/session.js';
import { wampUriOf, type TopicLevels } from '../router/topic.js';
import { MqttPayload, mqttBytesOf } from './mqtt-payload.js';
import { parseTopicName } from './mqtt-topics.js';

/**
 * The bridge's request/response: an MQTT 5 PUBLISH with a Response Topic on a topic whose WAMP URI names a
 * registered procedure becomes a CALL of that procedure (the payload mapped as for events). The RESULT is
 * published to the response topic with the request's Correlation Data; an ERROR too, as
 * `{"error": uri, "args": [...], "kwargs": {...}}` with the user property `wamp-error` naming the URI.
 * Returns false, doing nothing, when no procedure is registered there (the PUBLISH is then an ordinary one).
 */
export function answerRequestWithCall(realm: Realm, caller: Session, levels: TopicLevels, request: MqttPayload, logger: RouterLogger): boolean {
  const responseTopic = request.properties?.responseTopic;
  if (responseTopic === undefined) return false;
  const procedure = wampUriOf(levels);
  if (procedure === 'wamp' || procedure.startsWith('wamp.') || !realm.dealer.hasRegistrationFor(procedure, levels)) return false;
  let responseLevels: TopicLevels;
  try {
    responseLevels = parseTopicName(responseTopic);
  } catch {
    return false;
  }
  const correlation = request.properties?.correlationData;
  const respond = (payload: Payload, extra: Partial<MessageProperties> = {}) => {
    const properties: MessageProperties = {
      qos: request.properties?.qos ?? 0,
      ...(correlation === undefined ? {} : { correlationData: correlation }),
      ...extra,
    };
    realm
      .publishTo(undefined, responseLevels, new MqttPayload(mqttBytesOf(payload), properties))
      .catch((error: unknown) => logger.warn('publishing an MQTT response failed', { topic: responseTopic, error: String(error) }));
  };
  realm.call(caller, procedure, { args: request.args ?? [] }, {}, {
    result(payload, progress) {
      if (!progress) respond(payload);
    },
    error(error) {
      const body = { error: error.uri, args: error.args ?? [], kwargs: error.kwargs ?? {} };
      respond({ args: [body] }, { userProperties: [['wamp-error', error.uri]] });
    },
  });
  return true;
}
