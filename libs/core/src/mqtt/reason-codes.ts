/** MQTT 5 reason codes the broker sends (spec 2.4), and the MQTT 3.1.1 CONNACK return codes. */
export const Reason = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  disconnectWithWill: 0x04,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverShuttingDown: 0x8b,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  sharedSubscriptionsNotSupported: 0x9e,
  subscriptionIdentifiersNotSupported: 0xa1,
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** MQTT 3.1 / 3.1.1 CONNACK return codes. */
export const ConnectReturnCode = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** The 3.1.1 CONNACK return code closest to a v5 CONNACK reason code. */
export function connectReturnCodeFor(reason: number): number {
  switch (reason) {
    case Reason.success:
      return ConnectReturnCode.accepted;
    case Reason.unsupportedProtocolVersion:
      return ConnectReturnCode.unacceptableProtocolVersion;
    case Reason.clientIdentifierNotValid:
      return ConnectReturnCode.identifierRejected;
    case Reason.badUserNameOrPassword:
    case Reason.badAuthenticationMethod:
      return ConnectReturnCode.badUserNameOrPassword;
    case Reason.notAuthorized:
      return ConnectReturnCode.notAuthorized;
    default:
      return ConnectReturnCode.serverUnavailable;
  }
}

/** A reason to end the network connection, with the reason string sent in a v5 DISCONNECT. */
export class MqttProtocolError extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
  }
}
