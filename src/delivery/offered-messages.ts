import type { OutboundForDelivery } from '../store/outbound.repo.js';

export interface Offered {
  readonly message: OutboundForDelivery;
  readonly queuedAt: number;
}

/** What a claim of offered messages may take: its room, and which ids and institutions to pass over. */
export interface PickRules {
  readonly room: number;
  /** Most of one institution a claim can lease (its lease limit): asking for more only earns refusals. */
  readonly perInstitution: number;
  /** Offered at or before this moment: the hand-off is over and the pollers take it. */
  readonly expiredAt: number;
  readonly claiming: ReadonlySet<number>;
  readonly busy: (institutionOin: string) => boolean;
}

/**
 * Messages offered for a first attempt and waiting for a lease in this process, by institution and
 * oldest first; institutions take turns. A pick looks at a few of each institution, never at every
 * message waiting: a burst of thousands for one school costs each claim what it takes, not what waits.
 */
export class OfferedMessages {
  private readonly byInstitution = new Map<string, Map<number, Offered>>();
  private readonly institutionOf = new Map<number, string>();

  get size(): number {
    return this.institutionOf.size;
  }

  add(message: OutboundForDelivery, queuedAt: number): void {
    let waiting = this.byInstitution.get(message.institutionOin);
    if (!waiting) {
      waiting = new Map();
      this.byInstitution.set(message.institutionOin, waiting);
    }
    waiting.set(message.id, { message, queuedAt });
    this.institutionOf.set(message.id, message.institutionOin);
  }

  get(id: number): Offered | undefined {
    const oin = this.institutionOf.get(id);
    return oin === undefined ? undefined : this.byInstitution.get(oin)?.get(id);
  }

  delete(id: number): void {
    const oin = this.institutionOf.get(id);
    if (oin === undefined) return;
    this.institutionOf.delete(id);
    const waiting = this.byInstitution.get(oin)!;
    waiting.delete(id);
    if (waiting.size === 0) this.byInstitution.delete(oin);
  }

  clear(): void {
    this.byInstitution.clear();
    this.institutionOf.clear();
  }

  /**
   * The ids a claim should ask for, oldest first within each institution, up to `room`; drops the
   * expired ones it meets (each institution's oldest come first, so it stops at the first that is not).
   */
  pick(rules: PickRules): number[] {
    const ids: number[] = [];
    const served: string[] = [];
    for (const [oin, waiting] of this.byInstitution) {
      const busy = rules.busy(oin);
      let taken = 0;
      for (const [id, entry] of waiting) {
        if (entry.queuedAt <= rules.expiredAt) {
          if (!rules.claiming.has(id)) this.delete(id); // a claim holding it decides its fate
          continue;
        }
        if (busy || taken >= rules.perInstitution || ids.length >= rules.room) break;
        if (rules.claiming.has(id)) continue;
        ids.push(id);
        taken += 1;
      }
      if (taken > 0) served.push(oin);
    }
    // Institutions served go to the back: when room is short, the others come first next time.
    for (const oin of served) {
      const waiting = this.byInstitution.get(oin);
      if (!waiting) continue;
      this.byInstitution.delete(oin);
      this.byInstitution.set(oin, waiting);
    }
    return ids;
  }
}
