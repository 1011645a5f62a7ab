import { signal } from '../../register/signals.js';
import type { HandlerResult, MessageHandler } from '../handler.js';
import { bodyElementOf, type Deletion, deletionOf } from '../parse-message.js';
import { terugkoppeling } from './feedback.js';
import { notifySubscribers } from './prior-education.js';
import { spontaneousPushes } from './spontaneous.js';

/** `aanleverenVerwijderingInschrijvingVO`: removes an enrolment delivered by mistake; an unknown one is rejected. */
export const deletionHandler: MessageHandler<Deletion> = {
  operation: 'aanleverenVerwijderingInschrijvingVO',
  parse: (message) => deletionOf(bodyElementOf(message.rawXml, 'aanleverenVerwijderingInschrijvingVO_Request')),
  needs: (deletion) => ({ pgns: [deletion.pgn.value] }),
  failureFeedback: (context, deletion) => [terugkoppeling(context, deletion, [signal('V0001')])],
  async handle(context, deletion): Promise<HandlerResult> {
    const key = { pgn: deletion.pgn.value, brin: deletion.brin, volgnummer: deletion.inschrijvingvolgnummer };
    const stored = context.register.enrolment(key);
    if (!stored) {
      return { outcome: 'rejected', outbound: [terugkoppeling(context, deletion, [signal('I0009')])] };
    }
    const before = context.register.enrolmentsOf(deletion.pgn.value);
    context.register.remove(key); // under whichever of the pupil's numbers it is stored
    const pushes = spontaneousPushes(context, key, before, context.register.enrolmentsOf(deletion.pgn.value));
    const priorEducation = await notifySubscribers(context, [deletion.pgn.value]);
    return { outcome: 'approved', outbound: [terugkoppeling(context, deletion, []), ...pushes, ...priorEducation] };
  },
};
