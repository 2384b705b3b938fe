import type { Parser } from 'mqtt-packet';

/** One MQTT 5 User Property: a name and a value; a message may repeat a name (MQTT 5 3.3.2.3.7). */
export type UserProperty = readonly [name: string, value: string];

/** Where a parsed packet's properties keep the user properties in the order they came. */
export const USER_PROPERTY_LIST = Symbol('userPropertyList');

type PropertiesWithOrder = Record<string, unknown> & { [USER_PROPERTY_LIST]?: UserProperty[] };

interface ParserInternals {
  _parseProperties(): PropertiesWithOrder | false;
  _parseStringPair(): { name: string; value: string };
}

/**
 * mqtt-packet decodes User Properties into an object keyed by name, which loses the order of repeated names
 * (`a=1, b=2, a=3` becomes `{a: [1, 3], b: 2}`), while the server must forward them in order
 * (MQTT-3.3.2-18). This wraps two methods of one parser instance to also record the pairs in arrival order,
 * under `USER_PROPERTY_LIST` of the properties object. It relies on the codec's internals (pinned by the
 * lock file); the conformance tests fail if a codec update breaks it.
 */
export function recordUserPropertyOrder(parser: Parser): void {
  const internals = parser as unknown as ParserInternals;
  const parseProperties = internals._parseProperties;
  const parsePair = internals._parseStringPair;
  let current: UserProperty[] | undefined;
  internals._parseStringPair = function (this: ParserInternals) {
    const pair = parsePair.call(this);
    current?.push([pair.name, pair.value]);
    return pair;
  };
  internals._parseProperties = function (this: ParserInternals) {
    const outer = current;
    current = [];
    try {
      const result = parseProperties.call(this);
      if (result && current.length > 0) result[USER_PROPERTY_LIST] = current;
      return result;
    } finally {
      current = outer;
    }
  };
}

/** The user properties of parsed properties, in arrival order; undefined when there are none. */
export function userPropertiesOf(properties: object | undefined): UserProperty[] | undefined {
  return (properties as PropertiesWithOrder | undefined)?.[USER_PROPERTY_LIST];
}
