import type { RunningServer } from './server-process.js';

/** One line of the server's JSON log (Nest's `ConsoleLogger` in JSON mode, with the line's fields flattened). */
export interface JsonLogLine {
  readonly level: string;
  readonly message: string;
  readonly context?: string;
  readonly timestamp: number;
  readonly [field: string]: unknown;
}

/** The complete lines the server printed so far (a line still being written is left out). */
export function completeLines(server: RunningServer): string[] {
  const output = server.output();
  return output.slice(0, output.lastIndexOf('\n') + 1).split('\n').filter((line) => line.length > 0);
}

/** The complete lines, each parsed as JSON; fails naming the first line that is not a JSON object. */
export function jsonLogLines(server: RunningServer): JsonLogLine[] {
  return completeLines(server).map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`a log line is not JSON: ${line}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`a log line is not a JSON object: ${line}`);
    return parsed as JsonLogLine;
  });
}

/** Resolves with the first JSON log line that satisfies `wanted`, waiting for the server to print it. */
export function waitForJsonLine(server: RunningServer, wanted: (line: JsonLogLine) => boolean, what: string, timeoutMs = 5_000): Promise<JsonLogLine> {
  return new Promise((resolve, reject) => {
    const streams = [server.process.stdout!, server.process.stderr!];
    const check = () => {
      const found = jsonLogLines(server).find(wanted);
      if (found === undefined) return;
      settle();
      resolve(found);
    };
    const timer = setTimeout(() => {
      settle();
      reject(new Error(`no log line with ${what} within ${timeoutMs} ms; the server printed:\n${server.output()}`));
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      for (const stream of streams) stream.off('data', check);
    };
    // Registered after the server's own output collector, so `output()` already holds the new chunk.
    for (const stream of streams) stream.on('data', check);
    check();
  });
}
