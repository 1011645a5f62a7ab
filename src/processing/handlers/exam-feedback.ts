import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { Pgn } from '../../register/pgn.js';
import { isRejected, type Signal } from '../../register/signals.js';
import type { DraftContext } from '../handler.js';
import { examTerugkoppelingBody } from '../outbound-messages.js';
import { outboundDraft } from './drafts.js';

/** The terugkoppeling for the sender of an exam result or its deletion. */
export function examTerugkoppeling(
  context: DraftContext,
  about: { pgn: Pgn; brin: string; examenresultaatvolgnummer: string },
  signals: readonly Signal[],
): OutboundDraft {
  return outboundDraft(
    context,
    { institutionOin: context.message.senderOin, brin: about.brin, receiverBrin: about.brin },
    'terugkoppelenExamenresultaatVO',
    (header) =>
      examTerugkoppelingBody(header, {
        identificatiecodeAanlevering: context.message.documentId,
        pgn: about.pgn,
        brin: about.brin,
        examenresultaatvolgnummer: about.examenresultaatvolgnummer,
        goedgekeurd: !isRejected(signals),
        signals,
      }),
  );
}
