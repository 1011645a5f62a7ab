import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { vacuumDeliveryLeases } from '../store/outbound.repo.js';

/** Leases of one institution, and of all, this process may free between two vacuums of delivery_leases. */
const FREED_PER_VACUUM = { institution: 1000, all: 10_000 };

/**
 * Vacuums delivery_leases once this process has freed 1,000 leases of one institution or 10,000 in all.
 * A lease row lives for one attempt, and a claim counts an institution's live leases in an index that
 * keeps every freed one until a vacuum: autovacuum looks once a minute (`autovacuum_naptime`), and in a
 * burst for one school each claim read them all (claim test: 1,498 entries a claim, ~170 vacuumed). A
 * claim reads the freed leases of the institutions it leases for, a few of many; a vacuum after every
 * 1,000 in all cost more than it saved. Counted per process: with several serving one school, each
 * vacuums after its own.
 */
export class LeaseVacuum {
  private readonly freedSince = new Map<string, number>();
  private freedInAll = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly freedPerVacuum = FREED_PER_VACUUM,
  ) {}

  /** Counts a lease of this institution freed; starts a vacuum when enough were. */
  freed(institutionOin: string, count = 1): void {
    const freed = (this.freedSince.get(institutionOin) ?? 0) + count;
    this.freedSince.set(institutionOin, freed);
    this.freedInAll += count;
    if (this.running) return;
    if (freed < this.freedPerVacuum.institution && this.freedInAll < this.freedPerVacuum.all) return;
    this.freedSince.clear();
    this.freedInAll = 0;
    this.running = vacuumDeliveryLeases(this.pool)
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
