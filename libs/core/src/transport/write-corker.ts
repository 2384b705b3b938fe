import type { Duplex } from 'node:stream';

/**
 * Coalesces the frames sent to one socket within one turn of the event loop into a single write: a burst
 * of events (or a batch of replies to a TCP chunk full of requests) costs one syscall instead of one per
 * frame. The socket is corked at the first send and uncorked on `setImmediate`, after the I/O callbacks
 * and promise jobs of the current turn.
 */
export class WriteCorker {
  private held = false;
  private readonly release = () => {
    this.held = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: Duplex) {}

  hold(): void {
    if (this.held) return;
    this.held = true;
    this.socket.cork();
    setImmediate(this.release);
  }
}
