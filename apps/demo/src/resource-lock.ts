/**
 * The seed's resource-lock demo: a WAMP client that takes the mutex `myapp.resource` and holds it for as
 * long as it runs. Start it in several terminals against one router: one prints "Master Resource Locked",
 * the others wait in line; stop the master (Ctrl-C, or kill -9) and the next one takes over, because the
 * lock was published with `will: null`.
 *
 *   npm start                       # the router, in one terminal
 *   npm run demo:lock               # in as many other terminals as you like
 *   npm run demo:lock -- ws://127.0.0.1:8080/ws realm1
 */
import { createRequire } from 'node:module';

interface Session {
  publish(topic: string, args: unknown[], kwargs: Record<string, unknown> | null, options: Record<string, unknown>): Promise<unknown>;
}
interface Connection {
  onopen: (session: Session) => void;
  onclose: (reason: string, details: { reason?: string; message?: string }) => boolean;
  open(): void;
  close(): void;
}
// autobahn ships no type declarations; these are the two calls this script makes.
const autobahn = createRequire(import.meta.url)('autobahn') as {
  Connection: new (options: { url: string; realm: string; max_retries: number }) => Connection;
};

const [url = 'ws://127.0.0.1:8080/ws', realm = 'realm1'] = process.argv.slice(2);
const connection = new autobahn.Connection({ url, realm, max_retries: 0 });

connection.onopen = (session) => {
  console.log(`connected to ${url}; waiting for myapp.resource ...`);
  session
    .publish(
      'myapp.resource',
      [],
      { pid: process.pid, value: 'handle-resource' },
      // Take the lock only when nobody holds it (when: null), wait in line for it (watch), and let it go
      // when this process goes away, however it goes (will: null).
      { acknowledge: true, retain: true, when: null, will: null, watch: true },
    )
    .then(
      (result) => console.log('Master Resource Locked', result),
      (reason) => {
        console.log('FAILED', reason);
        connection.close();
      },
    );
};
connection.onclose = (reason, details) => {
  console.log('connection closed:', reason, details.reason ?? '', details.message ?? '');
  process.exit(reason === 'closed' ? 0 : 1);
};
process.on('SIGINT', () => connection.close());
connection.open();
