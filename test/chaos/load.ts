/**
 * The load generator: distinct, valid aanleverenInschrijvingVO messages from several schools at a
 * steady rate, each recorded with how the broker answered (a receipt J, a SOAP fault, or no answer at
 * all). Every message has its own identificatiecodeBedrijfsdocument and its own pupil; every fifth
 * enrols a pupil an earlier message enrolled at another school (a transfer), so processing also
 * pushes an Inschrijfbewijs to the old school. Pupils are only ever referred to by index in output.
 */
import { randomUUID } from 'node:crypto';
import { isValidBsn } from '../../src/register/pgn.js';
import { lasRequest, post } from '../support/soap.js';
import { sleep } from './services.js';

export interface School {
  readonly brin: string;
  readonly oin: string;
}

export const SCHOOLS: readonly School[] = ['31AA', '31BB', '31CC', '31DD'].map((brin) => ({
  brin,
  oin: `00000007000${brin}00000`,
}));

/** Valid BSNs (elfproef), the same list every run; the harness loads them into the population register. */
export function pupils(count: number): string[] {
  const bsns: string[] = [];
  for (let n = 300_000_000; bsns.length < count; n++) if (isValidBsn(String(n))) bsns.push(String(n));
  return bsns;
}

export interface Enrolment {
  readonly school: School;
  readonly documentId: string;
  readonly pupil: number;
  readonly datumInschrijving: string;
}

export function enrolmentRequest(
  e: Enrolment,
  bsn: string,
  messageId = `urn:uuid:${randomUUID()}`,
): { path: string; soapAction: string; xml: string } {
  const { brin } = e.school;
  const body =
    '<c:aanleverenInschrijvingVO_Request xmlns:c="http://duo.nl/schema/DUO_VOAanlevering_InschrijvingVO_V1" xmlns:b="http://duo.nl/schema/DUO_VOBasisschema_Inschrijving_V1">' +
    `<b:identificatiecodeBedrijfsdocument>${e.documentId}</b:identificatiecodeBedrijfsdocument>` +
    `<b:verzendendeInstantie>${brin}</b:verzendendeInstantie><b:ontvangendeInstantie>DUO</b:ontvangendeInstantie>` +
    `<b:datumTijdBedrijfsdocument>${new Date().toISOString().slice(0, 19)}Z</b:datumTijdBedrijfsdocument>` +
    `<b:burgerservicenummer>${bsn}</b:burgerservicenummer><b:brin>${brin}</b:brin>` +
    `<b:inschrijvingvolgnummer>C-${e.documentId.slice(0, 8)}</b:inschrijvingvolgnummer><b:datumInschrijving>${e.datumInschrijving}</b:datumInschrijving>` +
    `<c:inschrijvingPeriodeVO><b:datumBegin>${e.datumInschrijving}</b:datumBegin><b:onderwijsaanbieder>100A200</b:onderwijsaanbieder><b:onderwijslocatie>100X300</b:onderwijslocatie><b:opleidingcode>0050</b:opleidingcode>` +
    `<c:vestiging>${brin}00</c:vestiging><c:leerjaar>1</c:leerjaar><c:indicatieBekostigbaar>true</c:indicatieBekostigbaar></c:inschrijvingPeriodeVO>` +
    '</c:aanleverenInschrijvingVO_Request>';
  return lasRequest('aanleverenInschrijvingVO', body, {
    messageId,
    from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${e.school.oin}`,
  });
}

export type Answer =
  | { kind: 'receipt'; receipt: string }
  | { kind: 'fault'; code: string }
  | { kind: 'no-answer'; error: string };

/** One document as the load generator sent it, with every answer it got (copies of it included). */
export interface SentDocument {
  readonly key: string;
  readonly senderOin: string;
  readonly documentId: string;
  readonly answers: Answer[];
}

export const documentKey = (senderOin: string, documentId: string): string => `${senderOin}/${documentId}`;

/** Posts one request and classifies the answer; the receipt is its body (the envelope's ids are new per answer). */
export async function sendOnce(
  baseUrl: string,
  request: { path: string; soapAction: string; xml: string },
  timeoutMs: number,
): Promise<Answer> {
  try {
    const answer = await Promise.race([
      post(baseUrl, request.path, request.xml, { soapaction: request.soapAction }),
      sleep(timeoutMs).then(() => {
        throw new Error('timeout');
      }),
    ]);
    if (answer.status === 200 && /ontvangstBevestiging>J</.test(answer.text)) {
      return {
        kind: 'receipt',
        receipt: /<soapenv:Body>([\s\S]*)<\/soapenv:Body>/.exec(answer.text)?.[1] ?? answer.text,
      };
    }
    if (answer.faultCode) return { kind: 'fault', code: answer.faultCode };
    return { kind: 'no-answer', error: `HTTP ${answer.status} without a receipt or fault` };
  } catch (error) {
    return { kind: 'no-answer', error: (error as Error).message };
  }
}

export class LoadGenerator {
  readonly documents = new Map<string, SentDocument>();
  private readonly enrolled: Enrolment[] = [];
  private nextPupil = 0;
  private counter = 0;
  sends = 0;
  /** Requests sent and not answered yet. */
  inFlight = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly bsns: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  record(senderOin: string, documentId: string, answer: Answer): void {
    const key = documentKey(senderOin, documentId);
    const doc = this.documents.get(key) ?? { key, senderOin, documentId, answers: [] };
    doc.answers.push(answer);
    this.documents.set(key, doc);
  }

  /** The next message: a new pupil at the next school, or (every fifth) an earlier pupil moving to another school. */
  next(): Enrolment {
    const n = this.counter++;
    const school = SCHOOLS[n % SCHOOLS.length]!;
    const earlier =
      n % 5 === 4
        ? this.enrolled.find((e) => e.school.brin !== school.brin && e.datumInschrijving === '2026-08-20')
        : undefined;
    if (earlier) this.enrolled.splice(this.enrolled.indexOf(earlier), 1);
    const pupil = earlier ? earlier.pupil : this.nextPupil++;
    if (pupil >= this.bsns.length) throw new Error('more messages than pupils loaded');
    const enrolment: Enrolment = {
      school,
      documentId: randomUUID(),
      pupil,
      datumInschrijving: earlier ? '2027-01-11' : '2026-08-20',
    };
    if (!earlier) this.enrolled.push(enrolment);
    return enrolment;
  }

  async sendEnrolment(e: Enrolment): Promise<void> {
    this.sends += 1;
    this.inFlight += 1;
    try {
      const answer = await sendOnce(this.baseUrl, enrolmentRequest(e, this.bsns[e.pupil]!), this.timeoutMs);
      this.record(e.school.oin, e.documentId, answer);
    } finally {
      this.inFlight -= 1;
    }
  }

  /**
   * Sends `rate` messages a second until `until()` says stop (or `maxMessages` were sent), at most
   * `maxInFlight` at once (a tick with all of them busy waits), and waits for the last answers.
   */
  async run(options: { rate: number; until: () => boolean; maxMessages: number; maxInFlight: number }): Promise<void> {
    const interval = 1000 / options.rate;
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < options.maxMessages && !options.until(); i++) {
      const wait = started + i * interval - Date.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= options.maxInFlight) await Promise.race(inFlight);
      const sending: Promise<void> = this.sendEnrolment(this.next()).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
  }
}
