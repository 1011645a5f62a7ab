export interface MicroBatcherOptions<In, Out> {
  /** Most items handed to `run` at once. */
  readonly maxBatch: number;
  /** Batches running at once; more arrivals wait and join a later batch. */
  readonly maxInFlight: number;
  /** Handles one batch; returns one result per item, in order. A throw fails every item of the batch. */
  readonly run: (items: readonly In[]) => Promise<readonly Out[]>;
  /** Longest an item may wait for a batch to start; the error it then rejects with. */
  readonly queueTimeout?: { readonly ms: number; readonly error: () => Error };
}

interface Waiter<In, Out> {
  readonly item: In;
  readonly resolve: (result: Out) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
}

/**
 * Group commit in general form: items submitted while a batch runs go together into the next one, so
 * one round trip (one fsync) serves many. Under light load an item runs alone at once; under heavy
 * load batches grow to `maxBatch`. Each caller learns its own result only after its batch finished.
 */
export class MicroBatcher<In, Out> {
  private pending: Waiter<In, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: MicroBatcherOptions<In, Out>) {}

  submit(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      const timeout = this.options.queueTimeout;
      const finish = (action: () => void): void => {
        if (waiter.settled) return;
        waiter.settled = true;
        if (timer) clearTimeout(timer);
        action();
      };
      const waiter: Waiter<In, Out> = {
        item,
        settled: false,
        resolve: (result) => finish(() => resolve(result)),
        reject: (error) => finish(() => reject(error)),
      };
      // Only an item still waiting times out; one already in a batch waits for its real outcome.
      const timer =
        timeout &&
        setTimeout(() => {
          const index = this.pending.indexOf(waiter);
          if (index === -1) return;
          this.pending.splice(index, 1);
          waiter.reject(timeout.error());
        }, timeout.ms);
      this.pending.push(waiter);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // setImmediate lets items submitted in the same loop turn join one batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch).filter((waiter) => !waiter.settled);
      if (batch.length === 0) continue;
      this.inFlight += 1;
      void this.runBatch(batch).finally(() => {
        this.inFlight -= 1;
        if (this.pending.length > 0) this.schedule();
      });
    }
  }

  private async runBatch(batch: Waiter<In, Out>[]): Promise<void> {
    try {
      const results = await this.options.run(batch.map((waiter) => waiter.item));
      for (const [index, waiter] of batch.entries()) waiter.resolve(results[index]!);
    } catch (error) {
      for (const waiter of batch) waiter.reject(error as Error);
    }
  }
}
