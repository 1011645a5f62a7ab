import type { EnrolmentStand } from '../register/enrolment.js';
import {
  type PopulationRecord, type StoredEnrolment, type Tx,
  loadRegister, lockRegisterKeys,
} from '../store/register.repo.js';
import { type ReferenceData, loadReferenceData } from '../store/reference.repo.js';
import type { RioLink } from '../register/rio-rules.js';

/** What a batch's handlers will read: pupils (all their enrolments), enrolments by key, population entries. */
export interface RegisterNeeds {
  readonly pgns?: readonly string[];
  readonly enrolments?: readonly { brin: string; inschrijvingvolgnummer: string }[];
  readonly bsns?: readonly string[];
  /** Vestigingen whose RIO stand-in links the rules check. */
  readonly vestigingen?: readonly string[];
  /** Onderwijsnummers to look up among those the broker assigned. */
  readonly onderwijsnummers?: readonly string[];
}

// U+001F cannot occur in XML text, so it cannot occur in a BRIN or volgnummer either.
const keyOf = (brin: string, volgnummer: string): string => `${brin}\u001f${volgnummer}`;

/**
 * The register as one processing transaction sees it: everything a batch needs is locked and loaded
 * in three statements up front (the locks, the register, reference data), handlers read and change it in memory (a
 * later message in the batch sees an earlier one's change), and `changes` hands what to write back,
 * in one statement with the rest.
 * Keeping the round trips per batch constant, not per message, is what makes processing fast.
 */
export class RegisterSession {
  private readonly enrolments = new Map<string, StoredEnrolment | null>();
  private readonly loaded = new Map<string, StoredEnrolment>();
  private readonly dirty = new Set<string>();
  private readonly people = new Map<string, PopulationRecord>();
  private reference: ReferenceData = { rioLinks: [], assigned: new Map() };

  private constructor(private readonly loadedPgns: ReadonlySet<string>, private readonly loadedKeys: ReadonlySet<string>) {}

  /** Locks what the batch touches (advisory locks, fixed order) and loads it. */
  static async open(tx: Tx, needs: readonly RegisterNeeds[]): Promise<RegisterSession> {
    const pgns = [...new Set(needs.flatMap((n) => n.pgns ?? []))];
    const keyed = needs.flatMap((n) => n.enrolments ?? []);
    const bsns = [...new Set(needs.flatMap((n) => n.bsns ?? []))];
    const keys = [...new Set(keyed.map((k) => keyOf(k.brin, k.inschrijvingvolgnummer)))];
    await lockRegisterKeys(tx, [...pgns.map((pgn) => `pgn:${pgn}`), ...keys.map((key) => `enrolment:${key}`)]);
    const session = new RegisterSession(new Set(pgns), new Set(keys));
    const { enrolments: stored, people } = await loadRegister(tx, pgns, keyed, bsns);
    for (const enrolment of stored) {
      const key = keyOf(enrolment.brin, enrolment.inschrijvingvolgnummer);
      session.enrolments.set(key, enrolment);
      session.loaded.set(key, enrolment);
    }
    for (const person of people) session.people.set(person.bsn, person);
    session.reference = await loadReferenceData(tx, [...new Set(needs.flatMap((n) => n.vestigingen ?? []))], [...new Set(needs.flatMap((n) => n.onderwijsnummers ?? []))]);
    return session;
  }

  /** The current stand of this enrolment, or null. */
  enrolment(brin: string, volgnummer: string): StoredEnrolment | null {
    const key = keyOf(brin, volgnummer);
    if (!this.loadedKeys.has(key) && !this.enrolments.has(key)) throw new Error(`enrolment ${brin}/${volgnummer} was not loaded for this batch`);
    return this.enrolments.get(key) ?? null;
  }

  /** Every current enrolment of this pupil. */
  enrolmentsOf(pgn: string): StoredEnrolment[] {
    if (!this.loadedPgns.has(pgn)) throw new Error('pupil was not loaded for this batch');
    return [...this.enrolments.values()].filter((e): e is StoredEnrolment => e !== null && e.pgn === pgn);
  }

  /** The population-register entry of a BSN asked for in the needs, or null. */
  population(bsn: string): PopulationRecord | null {
    return this.people.get(bsn) ?? null;
  }

  /** The RIO stand-in's links of a vestiging asked for in the needs (empty when it has none). */
  rioLinks(vestiging: string): readonly RioLink[] {
    return this.reference.rioLinks.filter((link) => link.vestiging === vestiging);
  }

  /** An onderwijsnummer asked for in the needs, when the broker assigned it: with its recorded birth date. */
  assignedOnderwijsnummer(onderwijsnummer: string): { readonly birthDate: string } | null {
    return this.reference.assigned.get(onderwijsnummer) ?? null;
  }

  /**
   * Records a changed population-register entry the caller has written itself, so later messages of
   * the batch read the new state.
   */
  replacePopulation(record: PopulationRecord): void {
    this.people.set(record.bsn, record);
  }

  /** Makes `stand` its enrolment's current state; `institutionOin` is the sender that owns the BRIN. */
  save(stand: EnrolmentStand, documentTime: string, sourceMessageId: number, institutionOin: string): void {
    const key = keyOf(stand.brin, stand.inschrijvingvolgnummer);
    this.enrolments.set(key, { brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer, pgn: stand.pgn.value, documentTime, stand, sourceMessageId, institutionOin });
    this.dirty.add(key);
  }

  remove(brin: string, volgnummer: string): void {
    const key = keyOf(brin, volgnummer);
    this.enrolments.set(key, null);
    this.dirty.add(key);
  }

  /** Every change made through this session: one final state per enrolment. */
  changes(): { removed: StoredEnrolment[]; saved: StoredEnrolment[] } {
    const saved: StoredEnrolment[] = [];
    const removed: StoredEnrolment[] = [];
    for (const key of this.dirty) {
      const current = this.enrolments.get(key);
      if (current) saved.push(current);
      else if (this.loaded.has(key)) removed.push(this.loaded.get(key)!);
    }
    return { removed, saved };
  }
}
