import { OUTBOUND_CONTRACT } from '../infra/catalogue.js';
import { escapeXml } from '../infra/xml/escape.js';
import type { ExamResultStand } from '../register/exam-result.js';
import type { PersonData } from '../register/person.js';
import type { Pgn } from '../register/pgn.js';
import type { Participation, PriorEducation } from '../register/prior-education/prior-education-rules.js';
import type { Signal } from '../register/signals.js';

/** The bedrijfsdocument of a message the broker sends: its own id and time, from the broker to a BRIN. */
export interface OutboundHeader {
  readonly documentId: string;
  readonly brokerOin: string;
  readonly receiverBrin: string;
  readonly at: Date;
}

const NS = OUTBOUND_CONTRACT.schemaNamespace;
const el = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<t:${name}>${escapeXml(value)}</t:${name}>`;

function bedrijfsdocument(header: OutboundHeader): string {
  return (
    el('identificatiecodeBedrijfsdocument', header.documentId) +
    el('verzendendeInstantie', header.brokerOin) +
    el('ontvangendeInstantie', header.receiverBrin) +
    el('datumTijdBedrijfsdocument', header.at.toISOString())
  );
}

const pgnElement = (pgn: Pgn): string => el(pgn.kind === 'BSN' ? 'burgerservicenummer' : 'onderwijsnummer', pgn.value);

function signalElements(signals: readonly Signal[]): string {
  return signals
    .map(
      (s) =>
        `<t:signaal>${el('signaalcode', s.code)}${el('omschrijving', s.omschrijving)}${el('ernst', s.ernst)}${s.sleutelgegevens
          .map((k) => `<t:sleutelgegeven>${el('naam', k.naam)}${el('waarde', k.waarde)}</t:sleutelgegeven>`)
          .join('')}</t:signaal>`,
    )
    .join('');
}

const wrap = (element: string, content: string): string => `<t:${element} xmlns:t="${NS}">${content}</t:${element}>`;

/** What a terugkoppeling says about one delivered message: accepted or not, and its signals. */
interface FeedbackResult {
  identificatiecodeAanlevering: string;
  pgn: Pgn;
  brin: string;
  goedgekeurd: boolean;
  signals: readonly Signal[];
}

/** A terugkoppeling: the same shape for every contract but for the operation and the number that names the stand. */
function feedbackBody(
  operation: string,
  header: OutboundHeader,
  result: FeedbackResult,
  volgnummer: readonly [element: string, value: string],
): string {
  return wrap(
    `${operation}_Request`,
    bedrijfsdocument(header) +
      el('identificatiecodeAanlevering', result.identificatiecodeAanlevering) +
      pgnElement(result.pgn) +
      el('brin', result.brin) +
      el(volgnummer[0], volgnummer[1]) +
      el('leveringGoedgekeurd', String(result.goedgekeurd)) +
      signalElements(result.signals),
  );
}

/** Feedback on one delivered enrolment or deletion (`terugkoppelenInschrijvingVO`). */
export const terugkoppelingBody = (
  header: OutboundHeader,
  result: FeedbackResult & { inschrijvingvolgnummer: string },
): string =>
  feedbackBody('terugkoppelenInschrijvingVO', header, result, [
    'inschrijvingvolgnummer',
    result.inschrijvingvolgnummer,
  ]);

/** Feedback on one delivered exam result or its deletion (`terugkoppelenExamenresultaatVO`). */
export const examTerugkoppelingBody = (
  header: OutboundHeader,
  result: FeedbackResult & { examenresultaatvolgnummer: string },
): string =>
  feedbackBody('terugkoppelenExamenresultaatVO', header, result, [
    'examenresultaatvolgnummer',
    result.examenresultaatvolgnummer,
  ]);

/** A vavo institution's exam result passed on to the VO school that placed the pupil (`verstrekkenExamenresultaatVO`). */
export function examResultPushBody(
  header: OutboundHeader,
  push: { pgn: Pgn; eigenInschrijvingvolgnummer: string; result: ExamResultStand; removed?: boolean },
): string {
  const { result } = push;
  const uitslag = result.uitslag;
  return wrap(
    'verstrekkenExamenresultaatVO_Request',
    bedrijfsdocument(header) +
      pgnElement(push.pgn) +
      el('eigenInschrijvingvolgnummer', push.eigenInschrijvingvolgnummer) +
      el('brin', result.brin) +
      el('examenresultaatvolgnummer', result.examenresultaatvolgnummer) +
      el('indicatieVerwijderd', push.removed ? 'true' : undefined) +
      el('examenregime', result.examenregime) +
      el('niveau', result.niveau) +
      (uitslag
        ? `<t:uitslag>${el('datumUitslag', uitslag.datumUitslag)}${el('uitslagcode', uitslag.uitslagcode)}${el(
            'indicatieCumLaude',
            uitslag.indicatieCumLaude === undefined ? undefined : String(uitslag.indicatieCumLaude),
          )}</t:uitslag>`
        : '') +
      result.vakken
        .map(
          (vak) =>
            `<t:vak>${el('vakcode', vak.vakcode)}${el('eindcijfer', vak.eindcijfer)}${el('beoordeling', vak.beoordeling)}${el(
              'indicatieDiplomavak',
              String(vak.indicatieDiplomavak),
            )}</t:vak>`,
        )
        .join(''),
  );
}

const BINNENLAND_ORDER = [
  'straatnaam',
  'huisnummer',
  'huisletter',
  'huisnummerToevoeging',
  'huisnummerAanduiding',
  'locatieOmschrijving',
  'postcode',
  'plaatsnaam',
];
const BUITENLAND_ORDER = ['adresregelBuitenland1', 'adresregelBuitenland2', 'adresregelBuitenland3', 'landcode'];

function addressElement(address: PersonData['address']): string {
  if (!address) return '';
  const [name, fields, order] =
    'binnenlandsAdres' in address
      ? (['binnenlandsAdres', address.binnenlandsAdres, BINNENLAND_ORDER] as const)
      : (['buitenlandsAdres', address.buitenlandsAdres, BUITENLAND_ORDER] as const);
  return `<t:${name}>${order.map((field) => el(field, fields[field])).join('')}</t:${name}>`;
}

export function persoonsgegevensBody(
  header: OutboundHeader,
  message: {
    reden: 'IDENTIFICATIE' | 'MUTATIE';
    identificatiecodeAanlevering?: string;
    person: PersonData;
    signals: readonly Signal[];
  },
): string {
  const p = message.person;
  return wrap(
    'verstrekkenPersoonsgegevens_Request',
    bedrijfsdocument(header) +
      el('reden', message.reden) +
      el('identificatiecodeAanlevering', message.identificatiecodeAanlevering) +
      (p.pgn ? pgnElement(p.pgn) : '') +
      el('achternaam', p.achternaam) +
      el('voorvoegsels', p.voorvoegsels) +
      el('voornamen', p.voornamen) +
      el('geboorteDatum', p.geboorteDatum) +
      el('geslacht', p.geslacht) +
      addressElement(p.address) +
      el('datumOverlijden', p.datumOverlijden) +
      signalElements(message.signals),
  );
}

/** A digital in- or uitschrijfbewijs (`verstrekkenDigitaalInUitschrijfbewijsVO`) for the receiving school. */
export function bewijsBody(
  header: OutboundHeader,
  bewijs: {
    pgn: Pgn;
    eigenInschrijvingvolgnummer: string;
    soort: 'Inschrijfbewijs' | 'Uitschrijfbewijs';
    about: { brin: string; onderwijsaanbieder?: string; onderwijslocatie?: string; datum?: string };
  },
): string {
  const dateElement = bewijs.soort === 'Inschrijfbewijs' ? 'datumInschrijving' : 'datumUitschrijving';
  return wrap(
    'verstrekkenDigitaalInUitschrijfbewijsVO_Request',
    bedrijfsdocument(header) +
      pgnElement(bewijs.pgn) +
      el('eigenInschrijvingvolgnummer', bewijs.eigenInschrijvingvolgnummer) +
      el('soortBewijs', bewijs.soort) +
      `<t:inschrijving>${el('brin', bewijs.about.brin)}${el('onderwijsaanbieder', bewijs.about.onderwijsaanbieder)}` +
      `${el('onderwijslocatie', bewijs.about.onderwijslocatie)}${el(dateElement, bewijs.about.datum)}</t:inschrijving>`,
  );
}

/** An enrolment's funding status on its peildatum (`verstrekkenBekostigingsstatus`). */
export function bekostigingsstatusBody(
  header: OutboundHeader,
  status: {
    pgn: Pgn;
    brin: string;
    inschrijvingvolgnummer: string;
    peildatum: string;
    status: 'BEKOSTIGBAAR' | 'NIET_BEKOSTIGBAAR';
    datumEersteInschrijvingNL?: string;
    indicatieNieuwkomersbekostiging?: 'J' | 'N';
    signals: readonly Signal[];
  },
): string {
  return wrap(
    'verstrekkenBekostigingsstatus_Request',
    bedrijfsdocument(header) +
      pgnElement(status.pgn) +
      el('brin', status.brin) +
      el('inschrijvingvolgnummer', status.inschrijvingvolgnummer) +
      el('peildatum', status.peildatum) +
      el('statusBekostiging', status.status) +
      el('datumEersteInschrijvingNL', status.datumEersteInschrijvingNL) +
      el('indicatieNieuwkomersbekostiging', status.indicatieNieuwkomersbekostiging) +
      signalElements(status.signals),
  );
}

/**
 * The weekly quality checks' signals for one BRIN (`verstrekkenKwaliteitscontrole`); each enrolment by
 * the pupil's PGN and its volgnummer, since a volgnummer is unique per pupil and BRIN only.
 */
export function kwaliteitscontroleBody(
  header: OutboundHeader,
  report: {
    brin: string;
    datumControle: string;
    signals: readonly { pgn: Pgn; inschrijvingvolgnummer: string; datumEersteMelding: string; signal: Signal }[];
  },
): string {
  return wrap(
    'verstrekkenKwaliteitscontrole_Request',
    bedrijfsdocument(header) +
      el('brin', report.brin) +
      el('datumControle', report.datumControle) +
      report.signals
        .map(
          (s) =>
            `<t:kwaliteitssignaal>${pgnElement(s.pgn)}${el('inschrijvingvolgnummer', s.inschrijvingvolgnummer)}${el('datumEersteMelding', s.datumEersteMelding)}${signalElements(
              [s.signal],
            )}</t:kwaliteitssignaal>`,
        )
        .join(''),
  );
}

function participationElement(name: string, p: Participation): string {
  return (
    `<t:${name}>` +
    el('soortDeelname', p.kind) +
    el('brin', p.brin) +
    el('inschrijvingvolgnummer', p.inschrijvingvolgnummer) +
    el('onderwijsaanbieder', p.onderwijsaanbieder) +
    el('onderwijslocatie', p.onderwijslocatie) +
    el('datumInschrijving', p.datumInschrijving) +
    el('datumUitschrijving', p.datumUitschrijving) +
    el('opleidingcode', p.opleidingcode) +
    el('leerjaar', p.leerjaar === undefined ? undefined : String(p.leerjaar)) +
    `</t:${name}>`
  );
}

/**
 * A student's prior education for an MBO institution (`leverenVooropleidingsgegevens`): the answer to its
 * request (with the request's identificatiecode), or a push while its subscription runs.
 */
export function vooropleidingsgegevensBody(
  header: OutboundHeader,
  message: {
    identificatiecodeAanvraag?: string;
    pgn: Pgn;
    brin: string;
    spontaneous: boolean;
    subscriptionEnds?: string;
    person: PersonData;
    priorEducation: PriorEducation;
  },
): string {
  const { person: p, priorEducation: e } = message;
  return wrap(
    'leverenVooropleidingsgegevens_Request',
    bedrijfsdocument(header) +
      el('identificatiecodeAanvraag', message.identificatiecodeAanvraag) +
      pgnElement(message.pgn) +
      el('brin', message.brin) +
      el('indicatieSpontaneWijziging', String(message.spontaneous)) +
      el('indicatieAbonnement', String(message.subscriptionEnds !== undefined)) +
      el('datumEindeAbonnement', message.subscriptionEnds) +
      el('achternaam', p.achternaam) +
      el('voorvoegsels', p.voorvoegsels) +
      el('voornamen', p.voornamen) +
      el('geboorteDatum', p.geboorteDatum) +
      el('geslacht', p.geslacht) +
      addressElement(p.address) +
      el('indicatieStartkwalificatie', e.indicatieStartkwalificatie) +
      el('aantalJarenMboZonderDiploma', String(e.aantalJarenMboZonderDiploma)) +
      (e.latestOrCurrent ? participationElement('laatsteOfLopendeDeelname', e.latestOrCurrent) : '') +
      e.havoVwoFromLeerjaar3.map((d) => participationElement('deelnameHavoVwo', d)).join('') +
      e.voDiplomas
        .map(
          (d) =>
            `<t:diplomaVO>${el('brin', d.brin)}${el('niveau', d.level)}${el('datumDiploma', d.diplomaDate)}${d.subjects
              .map(
                (v) =>
                  `<t:diplomavak>${el('vak', v.vak)}${el('eindcijfer', v.eindcijfer)}${el('beoordeling', v.beoordeling)}</t:diplomavak>`,
              )
              .join('')}</t:diplomaVO>`,
        )
        .join('') +
      e.mboDiplomas
        .map(
          (d) =>
            `<t:diplomaMBO>${el('brin', d.brin)}${el('opleidingcode', d.opleidingcode)}${el('niveau', d.niveau)}${el('datumDiploma', d.datumDiploma)}${(
              d.resultaten ?? []
            )
              .map(
                (r) =>
                  `<t:resultaat>${el('onderdeel', r.onderdeel)}${el('eindcijfer', r.eindcijfer)}${el('beoordeling', r.beoordeling)}</t:resultaat>`,
              )
              .join('')}</t:diplomaMBO>`,
        )
        .join('') +
      e.hoDegrees
        .map(
          (d) =>
            `<t:graadHO>${el('brin', d.brin)}${el('opleidingcode', d.opleidingcode)}${el('graad', d.graad)}${el('datumGraad', d.datumGraad)}</t:graadHO>`,
        )
        .join(''),
  );
}
