import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { DraftContext } from '../handler.js';
import type { OutboundHeader } from '../outbound-messages.js';

/**
 * An outbound message caused by the message being handled: a fresh document id and MessageID, the
 * broker as sender, the receiving BRIN as ontvangendeInstantie.
 */
export function outboundDraft(
  context: DraftContext,
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
    causeMessageId: context.message.id,
    bodyXml: body({ documentId, brokerOin: context.brokerOin, receiverBrin: to.receiverBrin, at: context.now }),
  };
}
