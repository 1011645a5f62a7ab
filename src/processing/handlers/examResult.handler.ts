import { dutchDate } from '../../register/calendar.js';
import { diplomaOf } from '../../register/diploma.js';
import type { StoredEnrolment } from '../../register/enrolment.js';
import { type ExamResultStand, sameExamResult, uitslagStoredAt } from '../../register/exam-result.js';
import {
  checkExamResultStand,
  examDay,
  oneStandPerEnrolment,
  uitslagRemovedSignals,
  vavoPlacements,
} from '../../register/exam-rules.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import { isRejected, signal } from '../../register/signals.js';
import { decideStand } from '../../register/stand-order.js';
import type { HandlerContext, HandlerResult, MessageHandler } from '../handler.js';
import { examResultPushBody } from '../outbound-messages.js';
import { bodyElementOf, examResultStandOf } from '../parse-message.js';
import { outboundDraft } from './drafts.js';
import { examTerugkoppeling } from './exam-feedback.js';
import { notifySubscribers } from './prior-education.js';

/**
 * The handleiding: a vavo institution delivers the exam result of a pupil a VO school placed there and
 * passes it on to that school. The broker does the passing on: every VO enrolment whose VAVO stay at the
 * delivering BRIN runs on the exam day gets the result, at the administration that delivered it.
 */
export function vavoPushes(
  context: HandlerContext,
  stand: ExamResultStand,
  enrolments: readonly StoredEnrolment[],
  removed = false,
): OutboundDraft[] {
  const placed = new Set(
    vavoPlacements(
      stand.brin,
      oneStandPerEnrolment(
        enrolments.map((e) => e.stand),
        stand.pgn.value,
      ),
      examDay(stand),
    ),
  );
  return enrolments.flatMap((enrolment) => {
    if (!placed.has(enrolment.stand) || !enrolment.administrationOin) return [];
    return [
      outboundDraft(
        context,
        { institutionOin: enrolment.administrationOin, brin: enrolment.brin, receiverBrin: enrolment.brin },
        'verstrekkenExamenresultaatVO',
        (header) =>
          examResultPushBody(header, {
            pgn: enrolment.stand.pgn,
            eigenInschrijvingvolgnummer: enrolment.inschrijvingvolgnummer,
            result: stand,
            removed,
          }),
      ),
    ];
  });
}

/** `aanleverenExamenresultaatVO`: the stand replaces the exam result when it is newer and passes the rules; passed, it is a diploma. */
export const examResultHandler: MessageHandler<ExamResultStand> = {
  operation: 'aanleverenExamenresultaatVO',
  parse: (message) => examResultStandOf(bodyElementOf(message.rawXml, 'aanleverenExamenresultaatVO_Request')),
  needs: (stand) => ({
    pgns: [stand.pgn.value],
    ...(stand.pgn.kind === 'BSN' ? { bsns: [stand.pgn.value] } : { onderwijsnummers: [stand.pgn.value] }),
  }),
  failureFeedback: (context, stand) => [examTerugkoppeling(context, stand, [signal('V0001')])],
  async handle(context, stand): Promise<HandlerResult> {
    const { register, message } = context;
    const key = { pgn: stand.pgn.value, brin: stand.brin, examenresultaatvolgnummer: stand.examenresultaatvolgnummer };
    const results = await register.examResultsOf(stand.pgn.value);
    const stored = sameExamResult(results, key);
    const decision = decideStand({ documentTime: message.documentTime, stand }, stored);
    if (decision === 'older')
      return { outcome: 'older', outbound: [examTerugkoppeling(context, stand, [signal('E0003')])] };

    const enrolments = register.enrolmentsOf(stand.pgn.value);
    const today = dutchDate(context.now);
    const checked = checkExamResultStand(stand, {
      today,
      ...(stand.pgn.kind === 'BSN'
        ? { knownToPopulationRegister: register.pupilPopulation(stand.pgn.value) !== null }
        : { assignedOnderwijsnummer: register.assignedOnderwijsnummer(stand.pgn.value) !== null }),
      enrolments: enrolments.map((e) => e.stand),
      // The stored stand of this very result counts too: its earlier examenregime is the spread exam's first year.
      examenregimesAtBrin: results.filter((r) => r.brin === stand.brin).map((r) => r.stand.examenregime),
      opleidingNiveaus: await register.opleidingNiveaus(
        enrolments.flatMap((e) => e.stand.perioden.map((p) => p.opleidingcode)),
      ),
    });
    // Schools fix their administration and send the same stand again: it changes nothing, but its warnings still count.
    if (decision === 'identical')
      return { outcome: 'unchanged', outbound: [examTerugkoppeling(context, stand, checked)] };
    const signals = [...checked, ...uitslagRemovedSignals(stored, stand, today)];
    if (isRejected(signals)) return { outcome: 'rejected', outbound: [examTerugkoppeling(context, stand, signals)] };
    const diploma = diplomaOf(stand);
    const hadDiploma = stored !== undefined && diplomaOf(stored.stand) !== null;
    const storedAt = uitslagStoredAt(stored, stand, context.now);
    await register.saveExamResult(
      {
        ...key,
        documentTime: message.documentTime,
        stand,
        sourceMessageId: message.id,
        ...(storedAt !== undefined ? { uitslagStoredAt: storedAt } : {}),
      },
      diploma,
    );
    // A diploma given, changed or taken back changes prior education: notifySubscribers pushes it to MBO subscribers.
    const priorEducation = diploma || hadDiploma ? await notifySubscribers(context, [stand.pgn.value]) : [];
    return {
      outcome: 'approved',
      outbound: [
        examTerugkoppeling(context, stand, signals),
        ...vavoPushes(context, stand, enrolments),
        ...priorEducation,
      ],
    };
  },
};
