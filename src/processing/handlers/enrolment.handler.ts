import { afterDeathSignals } from '../../register/after-death.js';
import { dutchDate } from '../../register/calendar.js';
import type { EnrolmentStand } from '../../register/enrolment.js';
import { checkEnrolmentStand } from '../../register/enrolment-rules.js';
import { latestPeriod } from '../../register/rio-rules.js';
import { isRejected, signal } from '../../register/signals.js';
import { decideStand } from '../../register/stand-order.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, enrolmentStandOf } from '../parse-message.js';
import { terugkoppeling } from './feedback.js';
import { notifySubscribers } from './prior-education.js';
import { spontaneousPushes } from './spontaneous.js';

/** `aanleverenInschrijvingVO`: the stand replaces the enrolment's state when it is newer and passes the rules. */
export const enrolmentHandler: MessageHandler<EnrolmentStand> = {
  operation: 'aanleverenInschrijvingVO',
  parse: (message) => enrolmentStandOf(bodyElementOf(message.rawXml, 'aanleverenInschrijvingVO_Request')),
  needs: (stand) => ({
    pgns: [stand.pgn.value],
    ...(stand.pgn.kind === 'BSN' ? { bsns: [stand.pgn.value] } : { onderwijsnummers: [stand.pgn.value] }),
    vestigingen: stand.perioden.map((period) => period.vestiging),
  }),
  failureFeedback: (context, stand) => [
    terugkoppeling(
      context,
      { pgn: stand.pgn, brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer },
      [signal('V0001')],
    ),
  ],
  async handle(context, stand): Promise<HandlerResult> {
    const { register, message } = context;
    const about = { pgn: stand.pgn, brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer };
    // The volgnummer is unique per pupil and BRIN (handleiding), so another pupil's volgnummer 1 is no concern.
    const key = { pgn: stand.pgn.value, brin: stand.brin, volgnummer: stand.inschrijvingvolgnummer };
    const stored = register.enrolment(key);
    const decision = decideStand({ documentTime: message.documentTime, stand }, stored ?? undefined);
    // A linked onderwijsnummer is the BSN's pupil: its date of death and birth date apply.
    const population = register.pupilPopulation(stand.pgn.value);
    // Delivering the same stand again still hears that it runs on past the pupil's death.
    if (decision === 'identical')
      return {
        outcome: 'unchanged',
        outbound: [terugkoppeling(context, about, afterDeathSignals(stand, population?.dateOfDeath))],
      };
    if (decision === 'older')
      return { outcome: 'older', outbound: [terugkoppeling(context, about, [signal('I0010')])] };

    const assigned = stand.pgn.kind === 'OWN' ? register.assignedOnderwijsnummer(stand.pgn.value) : null;
    const birthDate = (population ?? assigned)?.birthDate;
    const signals = [
      ...checkEnrolmentStand(stand, {
        today: dutchDate(context.now),
        ...(birthDate && !birthDate.includes('-00') ? { birthDate } : {}),
        ...(stand.pgn.kind === 'BSN'
          ? { knownToPopulationRegister: population !== null }
          : { assignedOnderwijsnummer: assigned !== null }),
        rioLinks: register.rioLinks(latestPeriod(stand.perioden)?.vestiging ?? ''),
        otherEnrolments: register
          .enrolmentsOf(stand.pgn.value)
          .filter((other) => other.brin !== stand.brin)
          .map((other) => other.stand),
      }),
      ...afterDeathSignals(stand, population?.dateOfDeath),
    ];
    if (isRejected(signals)) return { outcome: 'rejected', outbound: [terugkoppeling(context, about, signals)] };
    const before = register.enrolmentsOf(stand.pgn.value);
    register.save(stand, message.documentTime, message.id, message.senderOin);
    const pushes = spontaneousPushes(context, key, before, register.enrolmentsOf(stand.pgn.value));
    const priorEducation = await notifySubscribers(context, [stand.pgn.value]);
    return { outcome: 'approved', outbound: [terugkoppeling(context, about, signals), ...pushes, ...priorEducation] };
  },
};
