import { BrokerFault } from '../infra/errors.js';
import type { Release } from './sender-gate.js';

/**
 * The lane for bodies larger than any legitimate message (an enrolment is ~3 KB): at most `width` of
 * them at a time in this HTTP process are read, parsed and validated; the others wait with their
 * connection paused, so TCP holds their senders back at no cost here. Small messages never wait for
 * it: however many 1 MB requests arrive, only one at a time takes the event loop from them.
 */
export class BulkLane {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    /** A body over this many bytes (as sent or decompressed) takes the lane. */
    readonly thresholdBytes: number,
    private readonly width: number,
    /** Longest wait for a place; past it, a quick Server.BB0006. */
    private readonly waitMs: number,
  ) {}

  /** Resolves with the place's release once one is free; rejects with Server.BB0006 after `waitMs`. */
  enter(): Promise<Release> {
    if (this.active < this.width) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve(this.take());
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(
          new BrokerFault(
            'BB0006',
            `large messages (over ${this.thresholdBytes} bytes) wait for their turn here and none came within ${this.waitMs} ms; nothing was stored, send again later`,
          ),
        );
      }, this.waitMs);
      this.waiting.push(turn);
    });
  }

  private take(): Release {
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}
