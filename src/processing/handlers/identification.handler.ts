import { OUTBOUND_CONTRACT } from '../../infra/catalogue.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { IdentificationRequest, PersonData } from '../../register/person.js';
import { isValidOnderwijsnummer } from '../../register/pgn.js';
import { linkDecision, type PopulationFacts } from '../../register/re-identification.js';
import { type Signal, type SignalCode, signal } from '../../register/signals.js';
import type { HandlerContext, HandlerResult, MessageHandler } from '../handler.js';
import { persoonsgegevensBody } from '../outbound-messages.js';
import { bedrijfsdocumentOf, bodyElementOf, identificationOf } from '../parse-message.js';
import { personFromPopulation } from './person-data.js';

const VERSTREKKEN = OUTBOUND_CONTRACT.operations.find((o) => o.name === 'verstrekkenPersoonsgegevens')!;

/** Finds the person: BSN against the population register, an onderwijsnummer among those assigned, or the extended set. */
async function identify(
  context: HandlerContext,
  request: IdentificationRequest,
): Promise<{ person: PersonData | null; signals: Signal[] }> {
  const { register } = context;
  if (request.metPgn?.kind === 'BSN') {
    const record = register.population(request.metPgn.value);
    const matches = record !== null && record.birthDate === request.geboorteDatum && record.gender === request.geslacht;
    return matches
      ? { person: personFromPopulation(record), signals: [] }
      : { person: null, signals: [signal('I0012')] };
  }
  if (request.metPgn?.kind === 'OWN') {
    const assigned = await register.assignedPerson({ onderwijsnummer: request.metPgn.value });
    return assigned ? { person: assigned, signals: [] } : { person: null, signals: [signal('P0001')] };
  }
  const details = request.zonderPgn!;
  const inRegister = await register.findInPopulationRegister(
    details.achternaam,
    request.geboorteDatum,
    details.address,
  );
  if (inRegister) return { person: personFromPopulation(inRegister), signals: [] };
  const known = await register.assignedPerson({ request });
  return { person: known ?? (await register.assignOnderwijsnummer(request)), signals: [] };
}

/**
 * Makes the onderwijsnummer and the BSN one pupil when the rules allow it (src/register/re-identification.ts);
 * returns the signal that says why they were not linked, if any.
 */
async function linkPupil(
  context: HandlerContext,
  onderwijsnummer: string,
  person: PopulationFacts,
): Promise<SignalCode | null> {
  // A BSN found by name and address was not in the needs: lock it before linking, as batches on it would otherwise run on.
  const { register } = context;
  await register.join([onderwijsnummer, person.bsn]);
  const assigned = await register.assignedPerson({ onderwijsnummer });
  const decision = linkDecision(
    assigned && { birthDate: assigned.geboorteDatum!, gender: assigned.geslacht! },
    person,
    register.linkedBsn(onderwijsnummer),
  );
  if (!decision.link) return decision.signal;
  await register.link({ onderwijsnummer, bsn: person.bsn });
  return null;
}

/** `aanleverenIdentificerenPersoonVO`: answered with verstrekkenPersoonsgegevens (reden IDENTIFICATIE). */
export const identificationHandler: MessageHandler<{ request: IdentificationRequest; verzendendeInstantie: string }> = {
  operation: 'aanleverenIdentificerenPersoonVO',
  parse(message) {
    const body = bodyElementOf(message.rawXml, 'aanleverenIdentificerenPersoonVO_Request');
    return { request: identificationOf(body), verzendendeInstantie: bedrijfsdocumentOf(body).verzendendeInstantie };
  },
  needs: ({ request }) => ({
    ...(request.metPgn?.kind === 'BSN' ? { bsns: [request.metPgn.value] } : {}),
    // Both numbers of a pupil being re-identified are locked: the link makes them one pupil.
    pgns: [request.huidigOnderwijsnummer, request.metPgn?.kind === 'BSN' ? request.metPgn.value : undefined].filter(
      (n): n is string => n !== undefined,
    ),
  }),
  async handle(context, { request, verzendendeInstantie }): Promise<HandlerResult> {
    const { person, signals } = await identify(context, request);
    const current = request.huidigOnderwijsnummer;
    // Handleiding: a pupil known by an onderwijsnummer and identified with a BSN is one pupil from then on.
    if (current !== undefined && isValidOnderwijsnummer(current) && person?.pgn?.kind === 'BSN') {
      const refusal = await linkPupil(context, current, {
        bsn: person.pgn.value,
        birthDate: person.geboorteDatum!,
        gender: person.geslacht!,
      });
      if (refusal) signals.push(signal(refusal));
    }
    const documentId = context.newId();
    const receiverBrin = context.message.brin ?? verzendendeInstantie;
    const draft: OutboundDraft = {
      institutionOin: context.message.senderOin,
      brin: context.message.brin,
      operation: VERSTREKKEN.name,
      wsaMessageId: context.newId(),
      documentId,
      causeMessageId: context.message.id,
      bodyXml: persoonsgegevensBody(
        { documentId, brokerOin: context.brokerOin, receiverBrin, at: context.now },
        {
          reden: 'IDENTIFICATIE',
          identificatiecodeAanlevering: context.message.documentId,
          person: person ?? {},
          signals,
        },
      ),
    };
    return { outcome: person ? 'identified' : 'not-identified', outbound: [draft] };
  },
};
