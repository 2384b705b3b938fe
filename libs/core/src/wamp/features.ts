/**
 * The roles and features this router announces in WELCOME. Only what works is listed: clients such as
 * wampy refuse to use a feature the router did not announce, and others trust it blindly.
 */
export const ROUTER_ROLES = {
  broker: {
    features: {
      publisher_exclusion: true,
      publisher_identification: true,
      subscriber_blackwhite_listing: true,
      pattern_based_subscription: true,
      event_retention: true,
      session_meta_api: true,
      subscription_meta_api: true,
      event_history: true,
      payload_passthru_mode: true,
    },
  },
  dealer: {
    features: {
      progressive_call_results: true,
      call_canceling: true,
      call_timeout: true,
      progressive_call_invocations: true,
      caller_identification: true,
      pattern_based_registration: true,
      shared_registration: true,
      session_meta_api: true,
      registration_meta_api: true,
      testament_meta_api: true,
      payload_passthru_mode: true,
    },
  },
} as const;

/** Our agent string in WELCOME.Details.agent. */
export const ROUTER_AGENT = 'fox-wamp-nestjs/0.1.0';
