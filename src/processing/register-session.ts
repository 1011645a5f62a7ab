import type { EnrolmentStand, VolgnummerKey } from '../register/enrolment.js';
import {
  type PopulationRecord, type StoredEnrolment, type Tx,
  loadRegister, lockRegisterKeys,
} from '../store/register.repo.js';

/**
 * What a batch's handlers will read: pupils (all their enrolments) and population entries. An
 * enrolment's key holds its pupil's PGN, so loading the pupil loads every enrolment it can look up.
 */
export interface RegisterNeeds {
  readonly pgns?: readonly string[];
  readonly bsns?: readonly string[];
}

// U+001F cannot occur in XML text, so it cannot occur in a PGN, BRIN or volgnummer either.
const keyOf = ({ pgn, brin, volgnummer }: VolgnummerKey): string => `${pgn}\u001f${brin}\u001f${volgnummer}`;
const keyOfStored = (e: StoredEnrolment): string => keyOf({ pgn: e.pgn, brin: e.brin, volgnummer: e.inschrijvingvolgnummer });

/**
 * The register as one processing transaction sees it: everything a batch needs is locked and loaded
 * in two statements up front (the locks, then one read), handlers read and change it in memory (a
 * later message in the batch sees an earlier one's change), and `changes` hands what to write back,
 * in one statement with the rest.
 * Keeping the round trips per batch constant, not per message, is what makes processing fast.
 */
export class RegisterSession {
  private readonly enrolments = new Map<string, StoredEnrolment | null>();
  private readonly loaded = new Map<string, StoredEnrolment>();
  private readonly dirty = new Set<string>();
  private readonly people = new Map<string, PopulationRecord>();

  private constructor(private readonly loadedPgns: ReadonlySet<string>) {}

  /** Locks what the batch touches (advisory locks, fixed order) and loads it. */
  static async open(tx: Tx, needs: readonly RegisterNeeds[]): Promise<RegisterSession> {
    const pgns = [...new Set(needs.flatMap((n) => n.pgns ?? []))];
    const bsns = [...new Set(needs.flatMap((n) => n.bsns ?? []))];
    await lockRegisterKeys(tx, pgns.map((pgn) => `pgn:${pgn}`));
    const session = new RegisterSession(new Set(pgns));
    const { enrolments: stored, people } = await loadRegister(tx, pgns, bsns);
    for (const enrolment of stored) {
      const key = keyOfStored(enrolment);
      session.enrolments.set(key, enrolment);
      session.loaded.set(key, enrolment);
    }
    for (const person of people) session.people.set(person.bsn, person);
    return session;
  }

  /** The current stand of the pupil's enrolment with this BRIN and volgnummer, or null. */
  enrolment(key: VolgnummerKey): StoredEnrolment | null {
    if (!this.loadedPgns.has(key.pgn)) throw new Error('pupil was not loaded for this batch');
    return this.enrolments.get(keyOf(key)) ?? null;
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

  /**
   * Records a changed population-register entry the caller has written itself, so later messages of
   * the batch read the new state.
   */
  replacePopulation(record: PopulationRecord): void {
    this.people.set(record.bsn, record);
  }

  /** Makes `stand` its enrolment's current state; `institutionOin` is the sender that owns the BRIN. */
  save(stand: EnrolmentStand, documentTime: string, sourceMessageId: number, institutionOin: string): void {
    const stored: StoredEnrolment = { brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer, pgn: stand.pgn.value, documentTime, stand, sourceMessageId, institutionOin };
    const key = keyOfStored(stored);
    this.enrolments.set(key, stored);
    this.dirty.add(key);
  }

  remove(enrolment: VolgnummerKey): void {
    const key = keyOf(enrolment);
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
