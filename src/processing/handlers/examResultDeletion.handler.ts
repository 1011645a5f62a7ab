import { dutchDate } from '../../register/calendar.js';
import { diplomaOf } from '../../register/diploma.js';
import { uitslagRemovedSignals } from '../../register/exam-rules.js';
import { signal } from '../../register/signals.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, type ExamResultDeletion, examResultDeletionOf, examResultKeyOf } from '../parse-message.js';
import { examTerugkoppeling } from './exam-feedback.js';
import { sameExamResult } from './examResult.handler.js';

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
    await register.removeExamResult(key, diplomaOf(stored.stand) !== null);
    const signals = uitslagRemovedSignals(stored.stand, undefined, dutchDate(context.now));
    return { outcome: 'approved', outbound: [examTerugkoppeling(context, deletion, signals)] };
  },
};
