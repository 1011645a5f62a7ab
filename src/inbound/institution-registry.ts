import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { type Institution, listInstitutions } from '../store/institutions.repo.js';

/**
 * The institutions table held in memory, so authorising a request costs no database round trip.
 * Reloaded periodically and on demand (after a CLI change it is current within `refreshMs`).
 */
export class InstitutionRegistry {
  private byOin = new Map<string, Institution>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly refreshMs = 5000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: Error) => this.log.warn('institution refresh failed', { error: error.message }));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const institutions = await listInstitutions(this.pool);
    this.byOin = new Map(institutions.map((institution) => [institution.oin, institution]));
  }

  get(oin: string): Institution | undefined {
    return this.byOin.get(oin);
  }
}
