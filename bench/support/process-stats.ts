import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command name: utime and stime are the 12th and 13th fields, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of a process so far, in MiB (VmHWM). */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Resident set size of a process now, in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** CPU seconds all processes of the machine have been busy so far (every CPU, from /proc/stat). */
export function machineBusySeconds(): number {
  // cpu  user nice system idle iowait irq softirq steal …, in clock ticks (100 per second).
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.slice(0, 8).reduce((sum, value) => sum + value, 0) - idle) / 100;
}
