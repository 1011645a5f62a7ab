import type { EnrolmentStand, VolgnummerKey } from '../register/enrolment.js';
import {
  type PopulationRecord, type PupilLink, type StoredEnrolment, type Tx,
  loadPupilLinks, loadRegister, lockRegisterKeys,
} from '../store/register.repo.js';
import { type ReferenceData, loadReferenceData } from '../store/reference.repo.js';
import type { RioLink } from '../register/rio-rules.js';

/**
 * What a batch's handlers will read: pupils (all their enrolments, under every number linked to the
 * PGN) and population entries. An enrolment's key holds its pupil's PGN, so loading the pupil loads
 * every enrolment it can look up.
 */
export interface RegisterNeeds {
  readonly pgns?: readonly string[];
  readonly bsns?: readonly string[];
  /** Vestigingen whose RIO stand-in links the rules check. */
  readonly vestigingen?: readonly string[];
  /** Onderwijsnummers to look up among those the broker assigned. */
  readonly onderwijsnummers?: readonly string[];
}

// U+001F cannot occur in XML text, so it cannot occur in a PGN, BRIN or volgnummer either.
const keyOf = ({ pgn, brin, volgnummer }: VolgnummerKey): string => `${pgn}\u001f${brin}\u001f${volgnummer}`;
const keyOfStored = (e: StoredEnrolment): string => keyOf({ pgn: e.pgn, brin: e.brin, volgnummer: e.inschrijvingvolgnummer });

/**
 * The register as one processing transaction sees it: everything a batch needs is locked and loaded
 * in four statements up front (the pupils' linked numbers, the locks, the register, reference data),
 * handlers read and change it in memory (a later message in the batch sees an earlier one's change),
 * and `changes` hands what to write back, in one statement with the rest.
 * Keeping the round trips per batch constant, not per message, is what makes processing fast.
 */
export class RegisterSession {
  private readonly enrolments = new Map<string, StoredEnrolment | null>();
  private readonly loaded = new Map<string, StoredEnrolment>();
  private readonly dirty = new Set<string>();
  private readonly people = new Map<string, PopulationRecord>();
  /** Onderwijsnummer → the BSN it resolves to. */
  private readonly bsnOf = new Map<string, string>();
  private reference: ReferenceData = { rioLinks: [], assigned: new Map() };

  private constructor(private readonly loadedPgns: ReadonlySet<string>) {}

  /** Locks what the batch touches (advisory locks, fixed order) and loads it. */
  static async open(tx: Tx, needs: readonly RegisterNeeds[]): Promise<RegisterSession> {
    const asked = [...new Set(needs.flatMap((n) => n.pgns ?? []))];
    const bsns = [...new Set(needs.flatMap((n) => n.bsns ?? []))];
    const links = await loadPupilLinks(tx, asked);
    // Every number of each pupil is locked and read, so a batch holding either number excludes another.
    const pgns = [...new Set([...asked, ...links.flatMap((l) => [l.onderwijsnummer, l.bsn])])];
    await lockRegisterKeys(tx, pgns.map((pgn) => `pgn:${pgn}`));
    const session = new RegisterSession(new Set(pgns));
    for (const link of links) session.bsnOf.set(link.onderwijsnummer, link.bsn);
    const { enrolments: stored, people } = await loadRegister(tx, pgns, bsns);
    for (const enrolment of stored) {
      const key = keyOfStored(enrolment);
      session.enrolments.set(key, enrolment);
      session.loaded.set(key, enrolment);
    }
    for (const person of people) session.people.set(person.bsn, person);
    session.reference = await loadReferenceData(tx, [...new Set(needs.flatMap((n) => n.vestigingen ?? []))], [...new Set(needs.flatMap((n) => n.onderwijsnummers ?? []))]);
    return session;
  }

  /** The pupil a number belongs to: a linked onderwijsnummer's BSN, otherwise the number itself. */
  private pupilOf(pgn: string): string {
    return this.bsnOf.get(pgn) ?? pgn;
  }

  /**
   * The current stand of the pupil's enrolment with this BRIN and volgnummer, or null; it may be stored
   * under another number of the same pupil (its own `pgn` says which).
   */
  enrolment(key: VolgnummerKey): StoredEnrolment | null {
    return this.enrolmentsOf(key.pgn).find((e) => e.brin === key.brin && e.inschrijvingvolgnummer === key.volgnummer) ?? null;
  }

  /** Every current enrolment of this pupil, under each of its numbers. */
  enrolmentsOf(pgn: string): StoredEnrolment[] {
    if (!this.loadedPgns.has(pgn)) throw new Error('pupil was not loaded for this batch');
    const pupil = this.pupilOf(pgn);
    return [...this.enrolments.values()].filter((e): e is StoredEnrolment => e !== null && this.pupilOf(e.pgn) === pupil);
  }

  /**
   * Records a link the caller has written itself, so later messages of the batch see one pupil. A BSN
   * the batch did not load has no enrolments any later message of the batch reads: nothing to merge.
   */
  addLink(link: PupilLink): void {
    if (this.loadedPgns.has(link.onderwijsnummer) && this.loadedPgns.has(link.bsn)) this.bsnOf.set(link.onderwijsnummer, link.bsn);
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

  /**
   * Makes `stand` its enrolment's current state; `administrationOin` is the sender that delivered it,
   * where pushes about the enrolment go from now on. The same enrolment stored under the pupil's other
   * number (before a re-identification) is replaced.
   */
  save(stand: EnrolmentStand, documentTime: string, sourceMessageId: number, administrationOin: string): void {
    const stored: StoredEnrolment = { brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer, pgn: stand.pgn.value, documentTime, stand, sourceMessageId, administrationOin };
    const previous = this.enrolment({ pgn: stored.pgn, brin: stored.brin, volgnummer: stored.inschrijvingvolgnummer });
    if (previous && previous.pgn !== stored.pgn) this.remove({ pgn: previous.pgn, brin: previous.brin, volgnummer: previous.inschrijvingvolgnummer });
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
