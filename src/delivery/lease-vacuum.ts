import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';

/** Leases freed by this process between two vacuums of delivery_leases (its autovacuum threshold). */
const FREED_PER_VACUUM = 1000;

/**
 * Vacuums delivery_leases after every FREED_PER_VACUUM leases this process freed. A lease row lives
 * for one attempt, and a claim counts an institution's live leases in an index that keeps every freed
 * one until a vacuum: autovacuum looks once a minute (`autovacuum_naptime`), and a burst of 20,000
 * attempts for one school made each claim read them all (~8 ms). SKIP_LOCKED: one process's vacuum is
 * enough when two ask at once.
 */
export class LeaseVacuum {
  private freedSince = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly freedPerVacuum = FREED_PER_VACUUM,
  ) {}

  /** Counts leases freed; starts a vacuum when enough were. */
  freed(count: number): void {
    this.freedSince += count;
    if (this.freedSince < this.freedPerVacuum || this.running) return;
    this.freedSince = 0;
    this.running = this.pool
      .query('VACUUM (SKIP_LOCKED) delivery_leases')
      .then(
        () => undefined,
        (error: Error) => void this.log.warn('vacuum of delivery leases failed', { error: error.message }),
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Waits for a vacuum under way. */
  async idle(): Promise<void> {
    await this.running;
  }
}
