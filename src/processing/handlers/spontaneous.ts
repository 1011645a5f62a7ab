import { bewijzenFor } from '../../register/bewijs.js';
import { dutchDate } from '../../register/calendar.js';
import type { StoredEnrolment, VolgnummerKey } from '../../register/enrolment.js';
import { fundingStatus, relevantPeildatum } from '../../register/funding.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { HandlerContext } from '../handler.js';
import { bekostigingsstatusBody, bewijsBody } from '../outbound-messages.js';
import { outboundDraft } from './drafts.js';

type BrinVolgnummer = Pick<StoredEnrolment, 'brin' | 'inschrijvingvolgnummer'>;
// One pupil's enrolments (under any of its numbers): BRIN and volgnummer tell them apart.
const sameEnrolment = (a: BrinVolgnummer, b: BrinVolgnummer): boolean =>
  a.brin === b.brin && a.inschrijvingvolgnummer === b.inschrijvingvolgnummer;

function statusDraft(
  context: HandlerContext,
  enrolment: StoredEnrolment,
  others: readonly StoredEnrolment[],
  peildatum?: string,
): OutboundDraft | null {
  if (!enrolment.administrationOin) return null; // a BRIN no registered institution serves has nowhere to receive pushes
  const recorded =
    enrolment.stand.pgn.kind === 'BSN'
      ? context.register.population(enrolment.stand.pgn.value)?.firstEnrolmentPoVo
      : undefined;
  const status = fundingStatus(enrolment, others, dutchDate(context.now), peildatum, recorded);
  return outboundDraft(
    context,
    { institutionOin: enrolment.administrationOin, brin: enrolment.brin, receiverBrin: enrolment.brin },
    'verstrekkenBekostigingsstatus',
    (header) =>
      bekostigingsstatusBody(header, {
        pgn: enrolment.stand.pgn,
        brin: enrolment.brin,
        inschrijvingvolgnummer: enrolment.inschrijvingvolgnummer,
        ...status,
      }),
  );
}

/**
 * The pushes one change of an enrolment causes, besides the sender's terugkoppeling: the digital
 * in-/uitschrijfbewijzen for the schools directly involved, the changed enrolment's own funding status
 * (when it still exists), and an updated status for every other school whose double enrolment on its
 * peildatum arose or was resolved by the change. `before`/`after` are all the pupil's enrolments
 * before and after the change. Each push goes to the administration of the enrolment it is for (two
 * administrations of one BRIN never see each other's pupils). Written in the same transaction as the change itself.
 */
export function spontaneousPushes(
  context: HandlerContext,
  key: VolgnummerKey,
  before: readonly StoredEnrolment[],
  after: readonly StoredEnrolment[],
): OutboundDraft[] {
  const changed: BrinVolgnummer = { brin: key.brin, inschrijvingvolgnummer: key.volgnummer };
  const was = before.find((e) => sameEnrolment(e, changed));
  const is = after.find((e) => sameEnrolment(e, changed));
  const othersAfter = after.filter((e) => !sameEnrolment(e, changed));
  const drafts: OutboundDraft[] = [];
  const today = dutchDate(context.now);

  for (const bewijs of bewijzenFor(was, is, othersAfter, today)) {
    const { receiver } = bewijs;
    if (!receiver.administrationOin) continue;
    drafts.push(
      outboundDraft(
        context,
        { institutionOin: receiver.administrationOin, brin: receiver.brin, receiverBrin: receiver.brin },
        'verstrekkenDigitaalInUitschrijfbewijsVO',
        (header) =>
          bewijsBody(header, {
            pgn: receiver.stand.pgn,
            eigenInschrijvingvolgnummer: receiver.inschrijvingvolgnummer,
            soort: bewijs.soort,
            about: bewijs.about,
          }),
      ),
    );
  }

  if (is) {
    const own = statusDraft(context, is, othersAfter);
    if (own) drafts.push(own);
  }

  // The other schools' double enrolments, on their own peildatum and on the changed enrolment's (in the
  // summer those differ: a July change to next school year must reach a school whose own peildatum is
  // still last October).
  const changedPeildata = [was, is]
    .filter((e): e is StoredEnrolment => e !== undefined)
    .map((e) => relevantPeildatum(e, today));
  for (const other of othersAfter.filter((e) => e.brin !== changed.brin)) {
    const without = (list: readonly StoredEnrolment[]) => list.filter((e) => !sameEnrolment(e, other));
    for (const peildatum of new Set([relevantPeildatum(other, today), ...changedPeildata])) {
      const doubleBefore = fundingStatus(other, without(before), today, peildatum).doubleWith.join(',');
      const doubleAfter = fundingStatus(other, without(after), today, peildatum).doubleWith.join(',');
      if (doubleBefore === doubleAfter) continue;
      const update = statusDraft(context, other, without(after), peildatum);
      if (update) drafts.push(update);
    }
  }
  return drafts;
}
