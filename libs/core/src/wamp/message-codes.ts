/** WAMP v2 message type codes (spec: "Message Codes and Direction"). */
export const MessageCode = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type MessageCodeName = keyof typeof MessageCode;
export type MessageCodeValue = (typeof MessageCode)[MessageCodeName];

const namesByCode = new Map<number, MessageCodeName>(
  Object.entries(MessageCode).map(([name, code]) => [code, name as MessageCodeName]),
);

/** The name of a message code, for logs and error texts; `undefined` for codes the spec does not define. */
export function messageName(code: number): MessageCodeName | undefined {
  return namesByCode.get(code);
}

/** A decoded WAMP message: the array as it travels, first element the message code. */
export type WampMessage = [number, ...unknown[]];
