import { PupilNotLoadedError } from '../infra/errors.js';
import type { Diploma } from '../register/diploma.js';
import type { EnrolmentStand, StoredEnrolment, VolgnummerKey } from '../register/enrolment.js';
import type { ExamResultKey, StoredExamResult } from '../register/exam-result.js';
import type { Address, IdentificationRequest, PersonData } from '../register/person.js';
import type { PopulationRecord, PupilLink } from '../register/population.js';
import type { Subscription, SubscriptionEndReason } from '../register/prior-education/subscription.js';
import type { RioLink } from '../register/rio-rules.js';
import { educationOf, type MboHoEducation } from '../store/education-stand-in.repo.js';
import { diplomasOf, loadExamResults, removeExamResults, saveExamResult } from '../store/exam-results.repo.js';
import { assignOnderwijsnummer, findAssignedPerson, findPersonInPopulationRegister } from '../store/persons.repo.js';
import { identifiedBy } from '../store/pupil-trace.repo.js';
import { brinSectors, loadReferenceData, opleidingNiveaus, type ReferenceData } from '../store/reference.repo.js';
import {
  linkOnderwijsnummer,
  loadRegister,
  lockPupils,
  type Tx,
  upsertPopulationRecord,
} from '../store/register.repo.js';
import {
  endSubscriptions,
  lockActiveSubscriptions,
  recordPushedDigest,
  startSubscription,
} from '../store/subscriptions.repo.js';

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
const keyOfStored = (e: StoredEnrolment): string =>
  keyOf({ pgn: e.pgn, brin: e.brin, volgnummer: e.inschrijvingvolgnummer });

/** Reads the reference data a batch needs: RIO locations of these vestigingen, these assigned onderwijsnummers. */
export type ReferenceReader = (
  vestigingen: readonly string[],
  onderwijsnummers: readonly string[],
) => Promise<ReferenceData>;

/**
 * The register as one processing transaction sees it: everything a batch needs is locked and loaded
 * in three statements up front (the pupils' locks with their links and subscriptions, one `lock_pupils`
 * call; the register; reference data, on another connection when the caller gives one), and a fourth
 * only when a pupil has a running prior-education subscription; handlers read and change it in memory
 * (a later message in the batch sees an earlier one's change), and `changes` hands what to write back,
 * in one statement with the rest.
 * Keeping the round trips per batch constant, not per message, is what makes processing fast.
 *
 * The session holds the batch's transaction itself: handlers reach the database only through its
 * methods, so every read is under the batch's locks and every write commits or rolls back with it.
 */
export class RegisterSession {
  private readonly enrolments = new Map<string, StoredEnrolment | null>();
  private readonly loaded = new Map<string, StoredEnrolment>();
  private readonly dirty = new Set<string>();
  private readonly people = new Map<string, PopulationRecord>();
  /** Onderwijsnummer → the BSN it resolves to. */
  private readonly bsnOf = new Map<string, string>();
  private reference: ReferenceData = { rioLinks: [], assigned: new Map() };
  /** Prior-education subscriptions on the loaded pupils that had not ended when the batch began, by id. */
  private readonly subscriptions = new Map<number, Subscription>();

  /** Numbers whose pupil lock this transaction holds and whose enrolments it has loaded. */
  private readonly loadedPgns = new Set<string>();

  private constructor(private readonly tx: Tx) {}

  /**
   * Locks what the batch touches (advisory locks, fixed order) and loads it. Reference data is read by
   * `readReference` (default: in the transaction), which may use another connection: it is never locked
   * nor written by processing, so under READ COMMITTED any connection reads the same rows.
   */
  static async open(
    tx: Tx,
    needs: readonly RegisterNeeds[],
    readReference: ReferenceReader = (vestigingen, onderwijsnummers) =>
      loadReferenceData(tx, vestigingen, onderwijsnummers),
  ): Promise<RegisterSession> {
    const asked = [...new Set(needs.flatMap((n) => n.pgns ?? []))];
    const bsns = [...new Set(needs.flatMap((n) => n.bsns ?? []))];
    const session = new RegisterSession(tx);
    const reference = readReference(
      [...new Set(needs.flatMap((n) => n.vestigingen ?? []))],
      [...new Set(needs.flatMap((n) => n.onderwijsnummers ?? []))],
    );
    reference.catch(() => undefined); // awaited below; a lock failing first must not leave it unhandled
    const { subscriptions } = await session.lockPupils(asked);
    // A linked BSN's population entry is the pupil's, whichever number a message carries.
    const { enrolments: stored, people } = await loadRegister(
      tx,
      [...session.loadedPgns],
      [...new Set([...bsns, ...session.bsnOf.values()])],
    );
    session.adopt(stored, people);
    // Locked already by lock_pupils: read only when there are any.
    if (subscriptions > 0) session.adoptSubscriptions(await lockActiveSubscriptions(tx, [...session.loadedPgns]));
    session.reference = await reference;
    return session;
  }

  /**
   * Locks and loads pupils a handler finds only while it runs (an identification that finds a BSN), so
   * no other batch works on them while this one links them; a lock taken out of the fixed order may
   * deadlock, which PostgreSQL breaks and processing retries as a transient failure.
   */
  async join(numbers: readonly string[]): Promise<void> {
    const { locked: fresh, subscriptions } = await this.lockPupils(numbers);
    if (fresh.length === 0) return;
    const { enrolments: stored, people } = await loadRegister(this.tx, fresh, fresh);
    this.adopt(stored, people);
    if (subscriptions > 0) this.adoptSubscriptions(await lockActiveSubscriptions(this.tx, fresh));
  }

  private adoptSubscriptions(subscriptions: readonly Subscription[]): void {
    for (const subscription of subscriptions)
      if (!this.subscriptions.has(subscription.id)) this.subscriptions.set(subscription.id, subscription);
  }

  /**
   * The pupil's prior-education subscriptions not ended yet (under any of its numbers); whether their
   * nine months are over is the caller's to judge.
   */
  subscriptionsOf(pgn: string): Subscription[] {
    if (!this.loadedPgns.has(pgn)) throw new PupilNotLoadedError();
    const pupil = this.pupilOf(pgn);
    return [...this.subscriptions.values()].filter((s) => s.endedAt === null && this.pupilOf(s.pgn) === pupil);
  }

  /** Starts a subscription in the batch's transaction, or returns the one running for this administration, BRIN, pupil. */
  async subscribe(start: Parameters<typeof startSubscription>[1]): Promise<Subscription> {
    const subscription = await startSubscription(this.tx, start);
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  /** Records what was just sent on a subscription; later messages of the batch compare with it. */
  async recordPushedDigest(subscription: Subscription, digest: string): Promise<void> {
    await recordPushedDigest(this.tx, subscription.id, digest);
    this.subscriptions.set(subscription.id, {
      ...(this.subscriptions.get(subscription.id) ?? subscription),
      pushedDigest: digest,
    });
  }

  /** Ends a subscription in the batch's transaction; later messages of the batch see it ended. */
  async endSubscription(subscription: Subscription, at: Date, reason: SubscriptionEndReason): Promise<void> {
    await endSubscriptions(this.tx, [subscription.id], at, reason);
    this.subscriptions.set(subscription.id, { ...subscription, endedAt: at, endReason: reason });
  }

  /**
   * Whether this administration identified the pupil before, under any of its numbers (its identification
   * requests processed as identified; the pupil index is keyed with `traceKey`).
   */
  identifiedBy(senderOin: string, pgn: string, traceKey: string): Promise<boolean> {
    return identifiedBy(this.tx, traceKey, senderOin, this.numbersOf(pgn));
  }

  /** Every diploma of the pupil, under each of its numbers (read only when a prior-education message is built). */
  diplomasOf(pgn: string): Promise<Diploma[]> {
    if (!this.loadedPgns.has(pgn)) throw new PupilNotLoadedError();
    return diplomasOf(this.tx, pgn);
  }

  /**
   * The pupil's MBO and HO education from the stand-in, under each of its numbers; `undefined` while the
   * stand-in has never been loaded (read only when a prior-education message is built).
   */
  mboHoEducationOf(pgn: string): Promise<MboHoEducation | undefined> {
    if (!this.loadedPgns.has(pgn)) throw new PupilNotLoadedError();
    return educationOf(this.tx, pgn);
  }

  /**
   * Locks every number of these pupils not locked yet (lock_pupils, one round trip); returns those it
   * locked. Links are read before the locks (to take them all in one ordered statement) and again after:
   * a link committed by a batch we waited for names numbers the first read could not see, and they are
   * locked too.
   */
  private async lockPupils(numbers: readonly string[]): Promise<{ locked: string[]; subscriptions: number }> {
    const { locked, links, subscriptions } = await lockPupils(this.tx, numbers, [...this.loadedPgns]);
    for (const number of locked) this.loadedPgns.add(number);
    for (const link of links) this.bsnOf.set(link.onderwijsnummer, link.bsn);
    return { locked, subscriptions };
  }

  private adopt(stored: readonly StoredEnrolment[], people: readonly PopulationRecord[]): void {
    for (const enrolment of stored) {
      const key = keyOfStored(enrolment);
      if (this.enrolments.has(key)) continue;
      this.enrolments.set(key, enrolment);
      this.loaded.set(key, enrolment);
    }
    for (const person of people) if (!this.people.has(person.bsn)) this.people.set(person.bsn, person);
  }

  /** The pupil a number belongs to: a linked onderwijsnummer's BSN, otherwise the number itself. */
  pupilOf(pgn: string): string {
    return this.bsnOf.get(pgn) ?? pgn;
  }

  /**
   * The current stand of the pupil's enrolment with this BRIN and volgnummer, or null; it may be stored
   * under another number of the same pupil (its own `pgn` says which). Stored under both, the row under
   * the number asked for is the one the school last delivered with that number.
   */
  enrolment(key: VolgnummerKey): StoredEnrolment | null {
    const same = this.sameEnrolment(key);
    return same.find((e) => e.pgn === key.pgn) ?? same[0] ?? null;
  }

  /** The rows of this enrolment under each of the pupil's numbers. */
  private sameEnrolment(key: VolgnummerKey): StoredEnrolment[] {
    return this.enrolmentsOf(key.pgn).filter((e) => e.brin === key.brin && e.inschrijvingvolgnummer === key.volgnummer);
  }

  /** Every current enrolment of this pupil, under each of its numbers. */
  enrolmentsOf(pgn: string): StoredEnrolment[] {
    if (!this.loadedPgns.has(pgn)) throw new PupilNotLoadedError();
    const pupil = this.pupilOf(pgn);
    return [...this.enrolments.values()].filter(
      (e): e is StoredEnrolment => e !== null && this.pupilOf(e.pgn) === pupil,
    );
  }

  /**
   * Links an onderwijsnummer to a BSN in the batch's transaction (join both first) and, when this link
   * is the one that holds, makes later messages of the batch see one pupil. False when the onderwijsnummer
   * already resolves to a BSN (the first link stays). A BSN the batch did not load has no enrolments any
   * later message of the batch reads: nothing to merge.
   */
  async link(link: PupilLink): Promise<boolean> {
    if (!(await linkOnderwijsnummer(this.tx, link))) return false;
    if (this.loadedPgns.has(link.onderwijsnummer) && this.loadedPgns.has(link.bsn))
      this.bsnOf.set(link.onderwijsnummer, link.bsn);
    return true;
  }

  /** A person the broker gave an onderwijsnummer, by that number or by the extended set of a request. */
  assignedPerson(by: { onderwijsnummer: string } | { request: IdentificationRequest }): Promise<PersonData | null> {
    return findAssignedPerson(this.tx, by);
  }

  /** A population-register entry with this surname and birth date at this address, or null (not locked: identification only reads it). */
  findInPopulationRegister(surname: string, birthDate: string, address: Address): Promise<PopulationRecord | null> {
    return findPersonInPopulationRegister(this.tx, surname, birthDate, address);
  }

  /** Gives a person without a BSN a new onderwijsnummer, in the batch's transaction. */
  assignOnderwijsnummer(request: IdentificationRequest): Promise<PersonData> {
    return assignOnderwijsnummer(this.tx, request);
  }

  /** The BSN a locked onderwijsnummer is linked to, or null. */
  linkedBsn(onderwijsnummer: string): string | null {
    if (!this.loadedPgns.has(onderwijsnummer)) throw new PupilNotLoadedError();
    return this.bsnOf.get(onderwijsnummer) ?? null;
  }

  /**
   * The population-register entry of the pupil this number belongs to: a BSN's own, or the BSN an
   * onderwijsnummer is linked to (loaded with the links); null when there is none.
   */
  pupilPopulation(pgn: string): PopulationRecord | null {
    return this.people.get(this.pupilOf(pgn)) ?? null;
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
   * Writes a changed population-register entry now, in the batch's transaction (enrolments wait for
   * `changes`), and makes later messages of the batch read the new state.
   */
  async savePopulation(record: PopulationRecord): Promise<void> {
    await upsertPopulationRecord(this.tx, record);
    this.people.set(record.bsn, record);
  }

  /**
   * Makes `stand` its enrolment's current state; `administrationOin` is the sender that delivered it,
   * where pushes about the enrolment go from now on. The same enrolment stored under the pupil's other
   * numbers (before a re-identification) is replaced.
   */
  save(stand: EnrolmentStand, documentTime: string, sourceMessageId: number, administrationOin: string): void {
    const stored: StoredEnrolment = {
      brin: stand.brin,
      inschrijvingvolgnummer: stand.inschrijvingvolgnummer,
      pgn: stand.pgn.value,
      documentTime,
      stand,
      sourceMessageId,
      administrationOin,
    };
    // One enrolment is one row: its rows under the pupil's other numbers go in the same write.
    for (const other of this.sameEnrolment({
      pgn: stored.pgn,
      brin: stored.brin,
      volgnummer: stored.inschrijvingvolgnummer,
    })) {
      if (other.pgn !== stored.pgn)
        this.removeRow({ pgn: other.pgn, brin: other.brin, volgnummer: other.inschrijvingvolgnummer });
    }
    const key = keyOfStored(stored);
    this.enrolments.set(key, stored);
    this.dirty.add(key);
  }

  /** Removes the pupil's enrolment with this BRIN and volgnummer, under whichever of its numbers it is stored. */
  remove(enrolment: VolgnummerKey): void {
    for (const row of this.sameEnrolment(enrolment))
      this.removeRow({ pgn: row.pgn, brin: row.brin, volgnummer: row.inschrijvingvolgnummer });
  }

  private removeRow(enrolment: VolgnummerKey): void {
    const key = keyOf(enrolment);
    this.enrolments.set(key, null);
    this.dirty.add(key);
  }

  /** Every number of the (loaded) pupil this number belongs to. */
  private numbersOf(pgn: string): string[] {
    if (!this.loadedPgns.has(pgn)) throw new PupilNotLoadedError();
    const pupil = this.pupilOf(pgn);
    return [...this.loadedPgns].filter((number) => this.pupilOf(number) === pupil);
  }

  /**
   * Every current exam result of the pupil, under each of its numbers. Read from the database in the
   * batch's transaction, under the pupil's lock: exam results are written at once (below), so a later
   * message of the batch sees an earlier one's change.
   */
  examResultsOf(pgn: string): Promise<StoredExamResult[]> {
    return loadExamResults(this.tx, this.numbersOf(pgn));
  }

  /**
   * Makes `stored` its exam result's current state, with the diploma it gives (or none), now; the same
   * result stored under the pupil's other numbers goes.
   */
  async saveExamResult(stored: StoredExamResult, diploma: Diploma | null): Promise<void> {
    const others = this.numbersOf(stored.pgn).filter((number) => number !== stored.pgn);
    await removeExamResults(
      this.tx,
      others.map((pgn) => ({ pgn, brin: stored.brin, examenresultaatvolgnummer: stored.examenresultaatvolgnummer })),
    );
    await saveExamResult(this.tx, stored, diploma);
  }

  /** Removes the pupil's exam result with this BRIN and volgnummer (and its diploma), under whichever number it is stored. */
  async removeExamResult(key: ExamResultKey): Promise<void> {
    await removeExamResults(
      this.tx,
      this.numbersOf(key.pgn).map((pgn) => ({ ...key, pgn })),
    );
  }

  /** The RIO stand-in's sector (VO, VSO, VAVO) of these BRINs (those it knows). */
  brinSectors(brins: readonly string[]): Promise<Map<string, string>> {
    return brinSectors(this.tx, [...new Set(brins)]);
  }

  /** The RIO stand-in's niveau of these opleidingcodes (those it knows). */
  opleidingNiveaus(codes: readonly string[]): Promise<Map<string, string>> {
    return opleidingNiveaus(this.tx, [...new Set(codes)]);
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
