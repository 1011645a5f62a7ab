import type { EnrolmentStand } from '../../register/enrolment.js';
import { checkEnrolmentStand } from '../../register/enrolment-rules.js';
import { latestPeriod } from '../../register/rio-rules.js';
import { isRejected, signal } from '../../register/signals.js';
import { decideStand } from '../../register/stand-order.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, enrolmentStandOf } from '../parse-message.js';
import { terugkoppeling } from './feedback.js';
import { spontaneousPushes } from './spontaneous.js';

/** `aanleverenInschrijvingVO`: the stand replaces the enrolment's state when it is newer and passes the rules. */
export const enrolmentHandler: MessageHandler<EnrolmentStand> = {
  operation: 'aanleverenInschrijvingVO',
  parse: (message) => enrolmentStandOf(bodyElementOf(message.rawXml, 'aanleverenInschrijvingVO_Request')),
  needs: (stand) => ({
    pgns: [stand.pgn.value],
    enrolments: [stand],
    ...(stand.pgn.kind === 'BSN' ? { bsns: [stand.pgn.value] } : { onderwijsnummers: [stand.pgn.value] }),
    vestigingen: stand.perioden.map((period) => period.vestiging),
  }),
  failureFeedback: (context, stand) => [terugkoppeling(context, { pgn: stand.pgn, brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer }, [signal('V0001')])],
  async handle(context, stand): Promise<HandlerResult> {
    const { register, message } = context;
    const about = { pgn: stand.pgn, brin: stand.brin, inschrijvingvolgnummer: stand.inschrijvingvolgnummer };
    const stored = register.enrolment(stand.brin, stand.inschrijvingvolgnummer);
    const samePerson = !stored || stored.pgn === stand.pgn.value;
    const decision = samePerson ? decideStand({ documentTime: message.documentTime, stand }, stored ?? undefined) : 'new';
    if (decision === 'identical') return { outcome: 'unchanged', outbound: [terugkoppeling(context, about, [])] };
    if (decision === 'older') return { outcome: 'older', outbound: [terugkoppeling(context, about, [signal('I0010')])] };

    const population = stand.pgn.kind === 'BSN' ? register.population(stand.pgn.value) : null;
    const assigned = stand.pgn.kind === 'OWN' ? register.assignedOnderwijsnummer(stand.pgn.value) : null;
    const birthDate = (population ?? assigned)?.birthDate;
    const signals = checkEnrolmentStand(stand, {
      today: context.now.toISOString().slice(0, 10),
      ...(birthDate && !birthDate.includes('-00') ? { birthDate } : {}),
      ...(stand.pgn.kind === 'BSN' ? { knownToPopulationRegister: population !== null } : { assignedOnderwijsnummer: assigned !== null }),
      volgnummerUsedForOtherPerson: !samePerson,
      rioLinks: register.rioLinks(latestPeriod(stand.perioden)?.vestiging ?? ''),
      otherEnrolments: register.enrolmentsOf(stand.pgn.value).filter((other) => other.brin !== stand.brin).map((other) => other.stand),
    });
    if (isRejected(signals)) return { outcome: 'rejected', outbound: [terugkoppeling(context, about, signals)] };
    const before = register.enrolmentsOf(stand.pgn.value);
    register.save(stand, message.documentTime, message.id, message.senderOin);
    const pushes = spontaneousPushes(context, stand, before, register.enrolmentsOf(stand.pgn.value));
    return { outcome: 'approved', outbound: [terugkoppeling(context, about, signals), ...pushes] };
  },
};
