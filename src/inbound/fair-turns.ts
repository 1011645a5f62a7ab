/**
 * Fair turns at the expensive body work (parse, schema, WS-Security): the senders with work waiting
 * take turns in rounds, one piece each, newcomers first. So a sender that floods the broker queues
 * behind itself: another sender's request waits for at most the piece already running and one piece
 * of each other sender. Rounds follow each other in one turn of the event loop until none waits or
 * the turn has run ROUND_MS, so requests that were ready together reach the store together and share
 * a commit, a lone sender's as well as many senders'. A piece asked for when nothing waits runs at
 * once, so a sender with nothing queued pays nothing extra; after a turn, the loop reads I/O before the next.
 */
/** Longest a turn runs rounds before the loop turns; the senders not reached yet go first in the next turn. */
const ROUND_MS = 5;

export class FairTurns {
  /** Pieces waiting per sender, in the order asked. */
  private readonly queues = new Map<string, Array<() => void>>();
  /** Senders whose first piece waits: they go before those that had a turn. */
  private readonly newcomers: string[] = [];
  private readonly rotation: string[] = [];
  /** A piece ran in this turn of the event loop: the next one waits for the loop to turn. */
  private busy = false;

  /** Runs `work` in `sender`'s turn and gives its result (or its error). */
  run<T>(sender: string, work: () => T): Promise<T> {
    if (!this.busy && this.queues.size === 0) {
      this.startTurn();
      try {
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const piece = (): void => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      };
      const queue = this.queues.get(sender);
      if (queue) queue.push(piece);
      else {
        this.queues.set(sender, [piece]);
        this.newcomers.push(sender);
      }
      if (!this.busy) this.startTurn();
    });
  }

  /** Pieces waiting now, of all senders (for tests and metrics). */
  waiting(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  private startTurn(): void {
    this.busy = true;
    setImmediate(() => this.next());
  }

  private next(): void {
    this.busy = false;
    const started = performance.now();
    // One piece of each sender a round: a sender put back in the rotation has its next piece in the next round.
    for (;;) {
      const sender = this.newcomers.shift() ?? this.rotation.shift();
      if (sender === undefined) break;
      const queue = this.queues.get(sender)!;
      const piece = queue.shift()!;
      if (queue.length === 0) this.queues.delete(sender);
      else this.rotation.push(sender);
      if (!this.busy) this.startTurn();
      piece();
      if (performance.now() - started > ROUND_MS) break;
    }
  }
}
