import { Command, InvalidArgumentError } from 'commander';
import { SCRAM_DEFAULT_ITERATIONS, scramCredential } from '@fox-wamp/core';

/**
 * Prints a WAMP-SCRAM user for the config file's `users` list: the salt, the PBKDF2 cost and the two keys
 * derived from the password, never the password itself. The password is read from stdin (one line), so it
 * stays out of the shell history and the process list:
 *
 *   printf '%s\n' 'the password' | node dist/src/config/scram-user.js alice user [--iterations N]
 */
function main(): void {
  const program = new Command('scram-user')
    .description('print a wamp-scram user for the config file; the password is read from stdin')
    .argument('<authid>', 'the user name clients log in with')
    .argument('<role>', 'the authrole the user gets')
    .option('--iterations <n>', `PBKDF2 iterations (default ${SCRAM_DEFAULT_ITERATIONS})`, positiveInteger, SCRAM_DEFAULT_ITERATIONS)
    .parse();
  const [authid, role] = program.args as [string, string];
  const { iterations } = program.opts<{ iterations: number }>();
  const chunks: Buffer[] = [];
  process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on('end', () => {
    // The first line is the password: a trailing newline (or CRLF) from echo or printf is not part of it.
    const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (password === '') {
      process.stderr.write('scram-user: no password on stdin\n');
      process.exit(2);
    }
    process.stdout.write(`${JSON.stringify({ authid, role, scram: scramCredential(password, { iterations }) }, null, 2)}\n`);
  });
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive whole number');
  return number;
}

main();
