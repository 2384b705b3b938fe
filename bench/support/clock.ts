/**
 * Microseconds on the monotonic clock (CLOCK_MONOTONIC on Linux), the same in every thread and process of
 * the machine: a publisher thread stamps a message with it and a subscriber thread subtracts it on arrival.
 */
export function nowMicros(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
