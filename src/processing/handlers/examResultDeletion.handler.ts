import { dutchDate } from '../../register/calendar.js';
import { diplomaOf } from '../../register/diploma.js';
import { sameExamResult } from '../../register/exam-result.js';
import { uitslagRemovedSignals } from '../../register/exam-rules.js';
import { signal } from '../../register/signals.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, type ExamResultDeletion, examResultDeletionOf, examResultKeyOf } from '../parse-message.js';
import { examTerugkoppeling } from './exam-feedback.js';
import { vavoPushes } from './examResult.handler.js';
import { notifySubscribers } from './prior-education.js';

/** `aanleverenVerwijderingExamenresultaatVO`: removes an exam result delivered by mistake, and its diploma; an unknown one is rejected. */
export const examResultDeletionHandler: MessageHandler<ExamResultDeletion> = {
  operation: 'aanleverenVerwijderingExamenresultaatVO',
  parse: (message) =>
    examResultDeletionOf(bodyElementOf(message.rawXml, 'aanleverenVerwijderingExamenresultaatVO_Request')),
  needs: (deletion) => ({ pgns: [deletion.pgn.value] }),
  failureFeedback: (context, deletion) => [examTerugkoppeling(context, deletion, [signal('V0001')])],
  async handle(context, deletion): Promise<HandlerResult> {
    const { register } = context;
    const key = examResultKeyOf(deletion);
    const stored = sameExamResult(await register.examResultsOf(deletion.pgn.value), key);
    if (!stored) return { outcome: 'rejected', outbound: [examTerugkoppeling(context, deletion, [signal('E0002')])] };
    const hadDiploma = diplomaOf(stored.stand) !== null;
    await register.removeExamResult(key);
    const signals = uitslagRemovedSignals(stored, undefined, dutchDate(context.now));
    // A diploma taken back changes the pupil's prior education: subscribed MBO institutions hear of it.
    const priorEducation = hadDiploma ? await notifySubscribers(context, [deletion.pgn.value]) : [];
    // The VO schools the result was passed on to (their pupil placed at this vavo institution) drop it too.
    const removals = vavoPushes(context, stored.stand, register.enrolmentsOf(deletion.pgn.value), true);
    return {
      outcome: 'approved',
      outbound: [examTerugkoppeling(context, deletion, signals), ...priorEducation, ...removals],
    };
  },
};
