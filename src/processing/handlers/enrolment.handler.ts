import { checkEnrolmentStand } from '../../register/enrolment-rules.js';
import { isRejected, signal } from '../../register/signals.js';
import { decideStand } from '../../register/stand-order.js';
import { findPopulationRecord, lockEnrolment, otherEnrolments, saveEnrolment } from '../../store/register.repo.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, enrolmentStandOf } from '../parse-message.js';
import { terugkoppeling } from './feedback.js';

/** `aanleverenInschrijvingVO`: the stand replaces the enrolment's state when it is newer and passes the rules. */
export const enrolmentHandler: MessageHandler = {
  operation: 'aanleverenInschrijvingVO',
  async handle(context): Promise<HandlerResult> {
    const { tx, message } = context;
    const stand = enrolmentStandOf(bodyElementOf(message.rawXml, 'aanleverenInschrijvingVO_Request'));
    const about = { pgn: stand.pgn, brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer };
    const stored = await lockEnrolment(tx, stand.brin, stand.inschrijvingvolgnummer);
    const samePerson = !stored || stored.pgn === stand.pgn.value;
    const decision = samePerson ? decideStand({ documentTime: message.documentTime, stand }, stored ?? undefined) : 'new';
    if (decision === 'identical') return { outcome: 'unchanged', outbound: [terugkoppeling(context, about, [])] };
    if (decision === 'older') return { outcome: 'older', outbound: [terugkoppeling(context, about, [signal('I0010')])] };

    const population = stand.pgn.kind === 'BSN' ? await findPopulationRecord(tx, stand.pgn.value) : null;
    const signals = checkEnrolmentStand(stand, {
      today: context.now.toISOString().slice(0, 10),
      ...(population && !population.birthDate.includes('-00') ? { birthDate: population.birthDate } : {}),
      ...(stand.pgn.kind === 'BSN' ? { knownToPopulationRegister: population !== null } : {}),
      volgnummerUsedForOtherPerson: !samePerson,
      otherEnrolments: await otherEnrolments(tx, stand.pgn.value, stand.brin),
    });
    if (isRejected(signals)) return { outcome: 'rejected', outbound: [terugkoppeling(context, about, signals)] };
    await saveEnrolment(tx, stand, message.documentTime, message.id);
    return { outcome: 'approved', outbound: [terugkoppeling(context, about, signals)] };
  },
};
