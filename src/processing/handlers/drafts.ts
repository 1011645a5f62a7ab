import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { DraftContext } from '../handler.js';

/** What building a message needs: no cause for one an operator's load causes (the load's audit row records it). */
type DraftCause = Omit<DraftContext, 'message'> & { readonly message: { readonly id: number } | null };

import type { OutboundHeader } from '../outbound-messages.js';

/**
 * An outbound message caused by the message being handled: a fresh document id and MessageID, the
 * broker as sender, the receiving BRIN as ontvangendeInstantie.
 */
export function outboundDraft(
  context: DraftCause,
  to: { institutionOin: string; brin: string | null; receiverBrin: string },
  operation: string,
  body: (header: OutboundHeader) => string,
): OutboundDraft {
  const documentId = context.newId();
  return {
    institutionOin: to.institutionOin,
    brin: to.brin,
    operation,
    wsaMessageId: context.newId(),
    documentId,
    causeMessageId: context.message?.id ?? null,
    bodyXml: body({ documentId, brokerOin: context.brokerOin, receiverBrin: to.receiverBrin, at: context.now }),
  };
}
