/** Where the demo serves WAMP on its HTTP port (the chat page connects here). */
export const DEMO_WAMP_PATH = '/wamp';
export const DEMO_REALM = 'realm1';
