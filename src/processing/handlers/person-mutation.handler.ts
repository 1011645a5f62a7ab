import { OUTBOUND_CONTRACT } from '../../infra/catalogue.js';
import { dutchDate } from '../../register/calendar.js';
import { type MutationRecipient, mutationRecipients } from '../../register/mutation-recipients.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import { applyMutation, type PersonMutation, sameDetails } from '../../register/person-mutation.js';
import type { PopulationRecord } from '../../register/population.js';
import { signal } from '../../register/signals.js';
import type { HandlerContext, HandlerResult, MessageHandler } from '../handler.js';
import { persoonsgegevensBody } from '../outbound-messages.js';
import { bodyElementOf, personMutationOf } from '../parse-message.js';
import { personFromPopulation } from './person-data.js';
import { notifySubscribers } from './prior-education.js';

const VERSTREKKEN = OUTBOUND_CONTRACT.operations.find((o) => o.name === 'verstrekkenPersoonsgegevens')!;

/** `verstrekkenPersoonsgegevens` with reden MUTATIE for one school, caused by the mutation message. */
function mutationPush(
  context: HandlerContext,
  person: PopulationRecord,
  recipient: MutationRecipient,
  institutionOin: string,
): OutboundDraft {
  const documentId = context.newId();
  const signals = recipient.volgnummersAfterDeath.map((volgnummer) =>
    signal('P0002', [{ naam: 'inschrijvingvolgnummer', waarde: volgnummer }]),
  );
  return {
    institutionOin,
    brin: recipient.brin,
    operation: VERSTREKKEN.name,
    wsaMessageId: context.newId(),
    documentId,
    causeMessageId: context.message.id,
    bodyXml: persoonsgegevensBody(
      { documentId, brokerOin: context.brokerOin, receiverBrin: recipient.brin, at: context.now },
      // Addressed with the number of the school's own enrolments, as the bewijzen are: a linked onderwijsnummer carries no BSN.
      { reden: 'MUTATIE', person: { ...personFromPopulation(person), pgn: recipient.pgn }, signals },
    ),
  };
}

/**
 * `verwerkenPersoonsmutatie` (from the BRP source only): updates the population register and tells every
 * school with an active enrolment of the person, at the administration that delivered that enrolment
 * (src/register/mutation-recipients.ts), and every administration with a running prior-education
 * subscription on the person (docs/brp-mutations.md). A BSN the
 * register does not hold is rejected (a mutation cannot create a person: it lacks birth date and
 * gender); a mutation that changes nothing pushes nothing, so a re-sent one is harmless.
 */
export const personMutationHandler: MessageHandler<PersonMutation> = {
  operation: 'verwerkenPersoonsmutatie',
  parse: (message) => personMutationOf(bodyElementOf(message.rawXml, 'verwerkenPersoonsmutatie_Request')),
  // Enrolments are stored under the PGN as delivered; the session adds those under onderwijsnummers linked to the BSN.
  needs: (mutation) => ({ pgns: [mutation.bsn], bsns: [mutation.bsn] }),
  async handle(context, mutation): Promise<HandlerResult> {
    const { register } = context;
    const current = register.population(mutation.bsn);
    if (!current) return { outcome: 'rejected', outbound: [] };
    const updated = applyMutation(current, mutation);
    if (sameDetails(current, updated)) return { outcome: 'unchanged', outbound: [] };
    await register.savePopulation(updated);

    const today = dutchDate(context.now);
    const enrolments = register
      .enrolmentsOf(mutation.bsn)
      .map((e) => ({ ...e.stand, administrationOin: e.administrationOin }));
    const recipients = mutationRecipients(enrolments, today, updated.dateOfDeath);
    // A BRIN no institution serves any more has nobody to tell.
    const outbound = recipients.flatMap((r) =>
      r.administrationOin ? [mutationPush(context, updated, r, r.administrationOin)] : [],
    );
    // Subscribed MBO institutions are told too (DUO: an active enrolment or subscription), once per
    // administration and BRIN, and get the student's prior education again, with the changed person data.
    const told = new Set(outbound.map((draft) => `${draft.institutionOin}\u001f${draft.brin}`));
    const subscribers = await notifySubscribers(context, [mutation.bsn], (to) =>
      told.has(`${to.institutionOin}\u001f${to.brin}`)
        ? []
        : [
            mutationPush(
              context,
              updated,
              { brin: to.brin, administrationOin: to.institutionOin, volgnummersAfterDeath: [], pgn: to.pgn },
              to.institutionOin,
            ),
          ],
    );
    return { outcome: 'approved', outbound: [...outbound, ...subscribers] };
  },
};
