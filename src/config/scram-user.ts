import { Command, InvalidArgumentError, Option } from 'commander';
import {
  SCRAM_ARGON2_DEFAULT_ITERATIONS,
  SCRAM_ARGON2_DEFAULT_MEMORY,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_KDFS,
  deriveScramCredential,
  type ScramKdf,
} from '@fox-wamp/core';

/**
 * Prints a WAMP-SCRAM user for the config file's `users` list: the salt, the KDF and its cost and the two
 * keys derived from the password, never the password itself. The password is read from stdin (one line), so
 * it stays out of the shell history and the process list:
 *
 *   printf '%s\n' 'the password' | node dist/src/config/scram-user.js alice user [--iterations N]
 *   printf '%s\n' 'the password' | node dist/src/config/scram-user.js alice user --kdf argon2id13 [--iterations N] [--memory KiB]
 */
async function main(): Promise<void> {
  const program = new Command('scram-user')
    .description('print a wamp-scram user for the config file; the password is read from stdin')
    .argument('<authid>', 'the user name clients log in with')
    .argument('<role>', 'the authrole the user gets')
    .addOption(new Option('--kdf <kdf>', 'the key derivation function').choices(SCRAM_KDFS).default('pbkdf2'))
    .option(
      '--iterations <n>',
      `the KDF's time cost (default ${SCRAM_DEFAULT_ITERATIONS} for pbkdf2, ${SCRAM_ARGON2_DEFAULT_ITERATIONS} for argon2id13)`,
      positiveInteger,
    )
    .option('--memory <KiB>', `argon2id13 only: the memory cost in KiB (default ${SCRAM_ARGON2_DEFAULT_MEMORY})`, positiveInteger)
    .parse();
  const [authid, role] = program.args as [string, string];
  const { kdf, iterations, memory } = program.opts<{ kdf: ScramKdf; iterations?: number; memory?: number }>();
  if (kdf !== 'argon2id13' && memory !== undefined) program.error('error: --memory goes only with --kdf argon2id13');

  const password = await firstLineOfStdin();
  if (password === '') {
    process.stderr.write('scram-user: no password on stdin\n');
    process.exit(2);
  }
  const scram = await deriveScramCredential(password, { kdf, iterations, memory }).catch((error: unknown) => {
    // A cost out of the KDF's range (an Argon2id memory below 8 KiB): one line, as for a missing password.
    process.stderr.write(`scram-user: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
  process.stdout.write(`${JSON.stringify({ authid, role, scram }, null, 2)}\n`);
}

/** The first line of stdin: a trailing newline (or CRLF) from echo or printf is not part of the password. */
async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive whole number');
  return number;
}

await main();
