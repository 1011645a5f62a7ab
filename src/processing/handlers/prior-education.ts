/**
 * Prior education for MBO institutions (docs/prior-education.md): the message built from the register,
 * the pushes to running subscriptions, and the two inbound operations.
 */
import { createHash } from 'node:crypto';
import { dutchDate } from '../../register/calendar.js';
import { pgnSignals } from '../../register/enrolment-rules.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import type { PersonData } from '../../register/person.js';
import type { Pgn } from '../../register/pgn.js';
import {
  type PriorEducation,
  priorEducationOf,
  registrationEnded,
} from '../../register/prior-education/prior-education-rules.js';
import { runsAt, type Subscription, startDay, subscriptionEnd } from '../../register/prior-education/subscription.js';
import { isRejected } from '../../register/signals.js';
import type { HandlerContext, HandlerResult, MessageHandler } from '../handler.js';
import { vooropleidingsgegevensBody } from '../outbound-messages.js';
import { bodyElementOf, type PriorEducationRequest, priorEducationRequestOf } from '../parse-message.js';
import { outboundDraft } from './drafts.js';
import { personFromPopulation } from './person-data.js';

const OPERATION = 'leverenVooropleidingsgegevens';

/**
 * What building and pushing prior education needs: a handler's context, or an operator's load (no
 * inbound message causes its pushes).
 */
export type PushContext = Pick<HandlerContext, 'register' | 'brokerOin' | 'now' | 'newId'> & {
  readonly message: { readonly id: number } | null;
};

/**
 * The register's prior-education picture of the pupil today. MBO and HO come from their stand-in; before it
 * was ever loaded those sources are absent (not held), not empty.
 */
async function priorEducationNow(context: PushContext, pgn: string): Promise<PriorEducation> {
  const { register } = context;
  const enrolments = register.enrolmentsOf(pgn);
  const niveaus = await register.opleidingNiveaus(
    enrolments.flatMap((e) => e.stand.perioden.map((p) => p.opleidingcode)),
  );
  return priorEducationOf(
    {
      enrolments,
      niveaus,
      diplomas: await register.diplomasOf(pgn),
      sectors: await register.brinSectors(enrolments.map((e) => e.brin)),
      ...(await register.mboHoEducationOf(pgn)),
    },
    dutchDate(context.now),
  );
}

/** What one message tells the institution about the student, without its bedrijfsdocument and request id. */
interface Picture {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly subscriptionEnds?: string;
  readonly person: Omit<PersonData, 'pgn'>;
  readonly priorEducation: PriorEducation;
}

async function pictureFor(
  context: PushContext,
  to: { brin: string; pgn: Pgn },
  subscription: Subscription | null,
): Promise<Picture> {
  const population = context.register.pupilPopulation(to.pgn.value);
  const { pgn: _number, ...person } = population ? personFromPopulation(population) : {};
  return {
    pgn: to.pgn,
    brin: to.brin,
    ...(subscription ? { subscriptionEnds: dutchDate(subscription.endsAt) } : {}),
    person,
    priorEducation: await priorEducationNow(context, to.pgn.value),
  };
}

/** A digest of a picture: built the same way each time, so an unchanged picture has an unchanged digest. */
const digestOf = (picture: Picture): string => createHash('sha256').update(JSON.stringify(picture)).digest('hex');

function priorEducationDraft(
  context: PushContext,
  institutionOin: string,
  picture: Picture,
  request?: string,
): OutboundDraft {
  return outboundDraft(
    context,
    { institutionOin, brin: picture.brin, receiverBrin: picture.brin },
    OPERATION,
    (header) =>
      vooropleidingsgegevensBody(header, {
        ...(request ? { identificatiecodeAanvraag: request } : {}),
        ...picture,
        spontaneous: request === undefined,
      }),
  );
}

/** Where a subscription's pushes go: its administration and BRIN, addressed with the number the request named. */
export interface SubscriberAddress {
  readonly institutionOin: string;
  readonly brin: string;
  readonly pgn: Pgn;
}

/**
 * Fresh prior education for every running subscription on these pupils, after a change the message being
 * handled made (a new or ended enrolment, a population-register mutation, a new diploma): one push per
 * administration, BRIN and pupil (two subscriptions under linked numbers are one), caused by that message,
 * so a retried or re-run batch never queues it twice (the outbox claim). A subscription whose nine months
 * are over, whose administration no longer serves the BRIN, or whose institution's registration of the
 * pupil the register holds has ended, is ended here instead, and pushes nothing. Nothing is pushed to a
 * disabled administration, and no prior education while the register holds no enrolment of the pupil, VO
 * or (stand-in) MBO (DUO sends changes while an enrolment is present). `alsoTell` adds a message of the caller's to each
 * running subscription's administration (a population-register mutation's verstrekkenPersoonsgegevens).
 */
export async function notifySubscribers(
  context: PushContext,
  pgns: readonly string[],
  alsoTell?: (to: SubscriberAddress) => readonly OutboundDraft[],
): Promise<OutboundDraft[]> {
  const { register, now } = context;
  const today = dutchDate(now);
  const seen = new Set<number>();
  const pushedTo = new Set<string>();
  const drafts: OutboundDraft[] = [];
  for (const pgn of pgns) {
    for (const subscription of register.subscriptionsOf(pgn)) {
      if (seen.has(subscription.id)) continue;
      seen.add(subscription.id);
      const enrolments = register.enrolmentsOf(subscription.pgn);
      const mbo = (await register.mboHoEducationOf(subscription.pgn))?.mbo.participations;
      if (!runsAt(subscription, now)) {
        await register.endSubscription(subscription, subscription.endsAt, 'expired');
      } else if (subscription.administration === 'changed') {
        await register.endSubscription(subscription, now, 'administration_changed');
      } else if (
        registrationEnded(enrolments, { brin: subscription.brin, startDay: startDay(subscription) }, today, mbo)
      ) {
        await register.endSubscription(subscription, now, 'registration_ended');
      } else if (subscription.administration !== 'disabled') {
        // U+001F cannot occur in an OIN, BRIN or PGN.
        const key = `${subscription.institutionOin}\u001f${subscription.brin}\u001f${register.pupilOf(subscription.pgn)}`;
        if (pushedTo.has(key)) continue;
        pushedTo.add(key);
        const to = { ...subscription, pgn: { kind: subscription.pgnKind, value: subscription.pgn } };
        if (alsoTell) drafts.push(...alsoTell(to));
        // BRON holds MBO enrolments too: a loaded MBO participation is an enrolment present in the register.
        if (enrolments.length === 0 && !mbo?.length) continue;
        // A change that leaves the picture as last sent (a funding flag, say) is not one the institution needs.
        const picture = await pictureFor(context, to, subscription);
        const digest = digestOf(picture);
        if (digest === subscription.pushedDigest) continue;
        await register.recordPushedDigest(subscription, digest);
        drafts.push(priorEducationDraft(context, subscription.institutionOin, picture));
      }
    }
  }
  return drafts;
}

/** The running subscription of this administration and BRIN on the pupil, if any. */
const ownSubscription = (context: HandlerContext, request: PriorEducationRequest): Subscription | undefined =>
  context.register
    .subscriptionsOf(request.pgn.value)
    .find((s) => s.institutionOin === context.message.senderOin && s.brin === request.brin && runsAt(s, context.now));

/**
 * `aanvragenVooropleidingen`: the student's prior education once, to the administration that asked; with
 * indicatieAbonnement it also subscribes for nine months from now (a request while its subscription runs
 * keeps that one, with its own end).
 */
export const priorEducationRequestHandler: MessageHandler<PriorEducationRequest> = {
  operation: 'aanvragenVooropleidingen',
  parse: (message) => priorEducationRequestOf(bodyElementOf(message.rawXml, 'aanvragenVooropleidingen_Request')),
  needs: (request) => ({
    pgns: [request.pgn.value],
    ...(request.pgn.kind === 'BSN' ? { bsns: [request.pgn.value] } : { onderwijsnummers: [request.pgn.value] }),
  }),
  async handle(context, request): Promise<HandlerResult> {
    const { message, now, register } = context;
    const pgn = request.pgn.value;
    // The same checks of the number as an enrolment's: a number that is not a person gets nothing.
    const signals = pgnSignals(
      request,
      request.pgn.kind === 'BSN'
        ? { knownToPopulationRegister: register.population(pgn) !== null }
        : { assignedOnderwijsnummer: register.assignedOnderwijsnummer(pgn) !== null },
    );
    if (isRejected(signals)) return { outcome: 'rejected', outbound: [] };
    // Only an institution that identified the student (or holds its enrolment at that BRIN) may ask.
    const enrolledThere = register.enrolmentsOf(pgn).some((e) => e.brin === request.brin);
    if (!enrolledThere && !(await register.identifiedBy(message.senderOin, pgn, context.traceKey)))
      return { outcome: 'rejected', outbound: [] };
    // One whose nine months are over but the job has not ended yet would block a new one: end it first.
    for (const over of register.subscriptionsOf(pgn))
      if (over.institutionOin === message.senderOin && over.brin === request.brin && !runsAt(over, now))
        await register.endSubscription(over, over.endsAt, 'expired');
    let subscription = ownSubscription(context, request) ?? null;
    if (request.subscribe && !subscription) {
      subscription = await register.subscribe({
        institutionOin: message.senderOin,
        brin: request.brin,
        pgn,
        pgnKind: request.pgn.kind,
        startedAt: now,
        endsAt: subscriptionEnd(now),
        sourceMessageId: message.id,
      });
    }
    const picture = await pictureFor(context, { brin: request.brin, pgn: request.pgn }, subscription);
    if (subscription) await register.recordPushedDigest(subscription, digestOf(picture));
    return {
      outcome: 'approved',
      outbound: [priorEducationDraft(context, message.senderOin, picture, message.documentId)],
    };
  },
};

/** `stoppenAbonnementVooropleidingen`: ends the sender's running subscription on the pupil (none: nothing changes). */
export const stopSubscriptionHandler: MessageHandler<PriorEducationRequest> = {
  operation: 'stoppenAbonnementVooropleidingen',
  parse: (message) =>
    priorEducationRequestOf(bodyElementOf(message.rawXml, 'stoppenAbonnementVooropleidingen_Request')),
  needs: (request) => ({ pgns: [request.pgn.value] }),
  async handle(context, request): Promise<HandlerResult> {
    const subscription = ownSubscription(context, request);
    if (!subscription) return { outcome: 'unchanged', outbound: [] };
    await context.register.endSubscription(subscription, context.now, 'stopped');
    return { outcome: 'approved', outbound: [] };
  },
};
