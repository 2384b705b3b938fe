import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that self time needs. */
interface CpuProfile {
  /** µs on the monotonic clock (V8's TimeTicks: CLOCK_MONOTONIC on Linux, as `process.hrtime`). */
  readonly startTime: number;
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of a profile summary. */
export interface ProfileShare {
  /** `function file:line`, or `file` for the per-file view. */
  readonly name: string;
  /** Self time in ms (CPU profile) or bytes allocated (allocation profile). */
  readonly amount: number;
  /** Share of the busy time (everything but `(idle)`), or of all bytes allocated. */
  readonly share: number;
}

/**
 * Self time per function and per file of a CPU profile: each sample is charged the time until the next one
 * to the function on top of the stack. `(garbage collector)` and `(program)` (native work outside
 * JavaScript: syscalls, libuv) are listed like functions. With `window` (µs on the monotonic clock, as
 * `nowMicros()`), only the samples taken within it count: the measured load, not the start-up.
 */
export function summarizeCpuProfile(
  path: string,
  limit = 20,
  window?: { readonly fromMicros: number; readonly toMicros: number },
): { busyMs: number; idleMs: number; functions: ProfileShare[]; files: ProfileShare[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window.fromMicros || at > window.toMicros)) continue;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = frames.get(profile.samples[i]!)!;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const file = frame.url === '' ? frame.functionName : shortUrl(frame.url);
    const name = frame.url === '' ? frame.functionName : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, amount: ms, share: ms / busyMs }));
  return { busyMs, idleMs, functions: top(byFunction), files: top(byFile) };
}

/** `node:net`, `mqtt-packet/parser.js`, `core/dist/mqtt/mqtt-connection.js`: enough of a path to know it. */
export function shortUrl(url: string): string {
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) {
    const before = url.slice(0, dist);
    return `${basename(before)}${url.slice(dist)}`;
  }
  return basename(url);
}

/** The parts of a sampling heap profile (`HeapProfiler.stopSampling`) that allocation by function needs. */
interface AllocationNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

/**
 * Bytes allocated per function and per file (V8 scales the samples, so these estimate the totals),
 * garbage included when the profile was taken with the collected objects kept (see allocation-sampler.ts).
 */
export function summarizeAllocationProfile(path: string, limit = 20): { totalBytes: number; functions: ProfileShare[]; files: ProfileShare[] } {
  const head = (JSON.parse(readFileSync(path, 'utf8')) as { head: AllocationNode }).head;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalBytes = 0;
  const stack: AllocationNode[] = [head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    const frame = node.callFrame;
    const file = frame.url === '' ? frame.functionName || '(native)' : shortUrl(frame.url);
    const name = frame.url === '' ? frame.functionName || '(native)' : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    totalBytes += node.selfSize;
  }
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, bytes]) => ({ name, amount: bytes, share: bytes / totalBytes }));
  return { totalBytes, functions: top(byFunction), files: top(byFile) };
}
