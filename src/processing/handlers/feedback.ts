import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { Pgn } from '../../register/pgn.js';
import { isRejected, type Signal } from '../../register/signals.js';
import type { DraftContext } from '../handler.js';
import { terugkoppelingBody } from '../outbound-messages.js';
import { outboundDraft } from './drafts.js';

/** The terugkoppeling for the sender of an enrolment or deletion. */
export function terugkoppeling(
  context: DraftContext,
  about: { pgn: Pgn; brin: string; inschrijvingvolgnummer: string },
  signals: readonly Signal[],
): OutboundDraft {
  return outboundDraft(
    context,
    { institutionOin: context.message.senderOin, brin: about.brin, receiverBrin: about.brin },
    'terugkoppelenInschrijvingVO',
    (header) =>
      terugkoppelingBody(header, {
        identificatiecodeAanlevering: context.message.documentId,
        ...about,
        goedgekeurd: !isRejected(signals),
        signals,
      }),
  );
}
