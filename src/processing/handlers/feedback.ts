import { OUTBOUND_CONTRACT } from '../../contracts/catalogue.js';
import { terugkoppelingBody } from '../../outbound/messages.js';
import type { Pgn } from '../../register/pgn.js';
import { type Signal, isRejected } from '../../register/signals.js';
import type { OutboundDraft } from '../../store/register.repo.js';
import type { HandlerContext } from '../handler.js';

const TERUGKOPPELEN = OUTBOUND_CONTRACT.operations.find((o) => o.name === 'terugkoppelenInschrijvingVO')!;

/** The terugkoppeling for the sender of an enrolment or deletion. */
export function terugkoppeling(context: HandlerContext, about: { pgn: Pgn; brin: string; inschrijvingvolgnummer: string }, signals: readonly Signal[]): OutboundDraft {
  const documentId = context.newId();
  return {
    institutionOin: context.message.senderOin,
    brin: about.brin,
    operation: TERUGKOPPELEN.name,
    wsaMessageId: context.newId(),
    documentId,
    causeMessageId: context.message.id,
    bodyXml: terugkoppelingBody(
      { documentId, brokerOin: context.brokerOin, receiverBrin: about.brin, at: context.now },
      { identificatiecodeAanlevering: context.message.documentId, ...about, goedgekeurd: !isRejected(signals), signals },
    ),
  };
}
