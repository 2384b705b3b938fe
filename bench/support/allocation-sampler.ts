/**
 * Preloaded into a server under test (`node --import …/allocation-sampler.js dist/src/main.js`) to find
 * what allocates on its hot path. `--heap-prof` only keeps the samples of objects still alive at exit,
 * which says nothing about garbage; this starts V8's sampling heap profiler with the objects collected by
 * the garbage collector included, on SIGUSR2 (the harness sends it when the measured interval begins), and
 * writes the profile to `$BENCH_ALLOCATION_PROFILE` when the process exits.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_ALLOCATION_PROFILE;
if (target !== undefined) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (sampling) return;
    sampling = true;
    session.post('HeapProfiler.startSampling', { samplingInterval: 16 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  });
  // The in-thread inspector session answers synchronously, so this works in an 'exit' listener.
  process.on('exit', () => {
    if (!sampling) return;
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error === null) writeFileSync(target, JSON.stringify((result as { profile: unknown }).profile));
    });
  });
}
