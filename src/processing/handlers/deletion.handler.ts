import { signal } from '../../register/signals.js';
import { deleteEnrolment, lockEnrolment } from '../../store/register.repo.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, deletionOf } from '../parse-message.js';
import { terugkoppeling } from './feedback.js';

/** `aanleverenVerwijderingInschrijvingVO`: removes an enrolment delivered by mistake; an unknown one is rejected. */
export const deletionHandler: MessageHandler = {
  operation: 'aanleverenVerwijderingInschrijvingVO',
  async handle(context): Promise<HandlerResult> {
    const deletion = deletionOf(bodyElementOf(context.message.rawXml, 'aanleverenVerwijderingInschrijvingVO_Request'));
    const stored = await lockEnrolment(context.tx, deletion.brin, deletion.inschrijvingvolgnummer);
    if (!stored || stored.pgn !== deletion.pgn.value) {
      return { outcome: 'rejected', outbound: [terugkoppeling(context, deletion, [signal('I0009')])] };
    }
    await deleteEnrolment(context.tx, stored.id);
    return { outcome: 'approved', outbound: [terugkoppeling(context, deletion, [])] };
  },
};
