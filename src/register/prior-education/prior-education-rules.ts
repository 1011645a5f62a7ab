/**
 * What `leverenVooropleidingsgegevens` holds for a pupil, from what the register has (docs/prior-education.md):
 * pure functions over the pupil's enrolments, diplomas and the RIO stand-in's niveau per opleidingcode.
 */
import { schoolYearOf } from '../calendar.js';
import type { Diploma } from '../diploma.js';
import type { IsoDate, StoredEnrolment } from '../enrolment.js';

/** The kinds of participation the message knows; an enrolment is VO, VSO or VAVO by its BRIN's sector in the RIO stand-in, MBO and HO come from their stand-in. */
export type ParticipationKind = 'VO' | 'VSO' | 'VAVO' | 'MBO' | 'HO';
/** The RIO niveaus of a havo or vwo programme. */
const HAVO_VWO = new Set(['HAVO', 'VWO']);

/** The first day each kind of education is reported from: DUO's register holds it from that year on. */
export const COVERED_FROM: Readonly<Record<ParticipationKind | 'WO', IsoDate>> = {
  VO: '2006-01-01',
  VSO: '2012-01-01',
  VAVO: '2007-01-01',
  MBO: '2007-01-01',
  HO: '1991-01-01', // hoger beroepsonderwijs
  WO: '1991-01-01', // wetenschappelijk onderwijs
};

export interface Participation {
  readonly kind: ParticipationKind;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly onderwijsaanbieder?: string;
  readonly onderwijslocatie?: string;
  readonly datumInschrijving: IsoDate;
  readonly datumUitschrijving?: IsoDate;
  readonly opleidingcode: string;
  readonly leerjaar?: number;
}

export interface MboDiploma {
  readonly brin: string;
  readonly opleidingcode: string;
  /** MBO niveau 1–4, when known. */
  readonly niveau?: string;
  readonly datumDiploma: IsoDate;
  /** The results that belong to the diploma (DUO: all MBO diplomas "with their results"). */
  readonly resultaten?: readonly MboResultaat[];
}

/** One result of an MBO diploma: the examined part and its final grade and/or assessment. */
export interface MboResultaat {
  readonly onderdeel: string;
  readonly eindcijfer?: string;
  readonly beoordeling?: string;
}

export interface HoDegree {
  readonly brin: string;
  readonly opleidingcode: string;
  readonly graad: string;
  readonly datumGraad: IsoDate;
}

/** What the register holds of one pupil that prior education is built from. */
export interface PriorEducationSources {
  readonly enrolments: readonly StoredEnrolment[];
  /** The RIO stand-in's niveau of the enrolments' opleidingcodes (those it knows). */
  readonly niveaus: ReadonlyMap<string, string>;
  readonly diplomas: readonly Diploma[];
  /** The RIO stand-in's sector of the enrolments' BRINs (those it knows): `VSO` or `VAVO` reports them as such. */
  readonly sectors?: ReadonlyMap<string, string>;
  /**
   * MBO participations and diplomas, when the register holds MBO data (its stand-in has been loaded);
   * `undefined` when it does not, which is not the same as a student without MBO education.
   */
  readonly mbo?: { readonly participations: readonly Participation[]; readonly diplomas: readonly MboDiploma[] };
  /** HO participations and degrees, when the register holds HO data; `undefined` when it does not. */
  readonly ho?: { readonly participations: readonly Participation[]; readonly degrees: readonly HoDegree[] };
}

export interface PriorEducation {
  readonly latestOrCurrent?: Participation;
  readonly havoVwoFromLeerjaar3: readonly Participation[];
  readonly voDiplomas: readonly Diploma[];
  readonly mboDiplomas: readonly MboDiploma[];
  readonly hoDegrees: readonly HoDegree[];
  /** `J` or `N`; absent when the register cannot tell (no startkwalificatie found and MBO or HO data missing). */
  readonly indicatieStartkwalificatie?: 'J' | 'N';
  /** Counted from the MBO data (at most 99); 99 when the register holds none to count from (unknown). */
  readonly aantalJarenMboZonderDiploma: number;
}

/** The VO diploma levels that are a startkwalificatie on their own. */
const STARTKWALIFICATIE_VO = new Set(['HAVO', 'VWO']);
/** The MBO levels that are a startkwalificatie (niveau 2 and up). */
const STARTKWALIFICATIE_MBO = new Set(['2', '3', '4']);
/** The field's highest value, which also stands for "unknown" (our reading of DUO's one example). */
export const UNKNOWN_YEARS = 99;
const MAX_YEARS = UNKNOWN_YEARS;

const runsOn = (p: Pick<Participation, 'datumInschrijving' | 'datumUitschrijving'>, day: IsoDate): boolean =>
  p.datumInschrijving <= day && (p.datumUitschrijving === undefined || p.datumUitschrijving >= day);

/** Within the years DUO's register covers: it ran on or after the first covered day. */
const covered = (p: Participation): boolean =>
  p.datumUitschrijving === undefined || p.datumUitschrijving >= COVERED_FROM[p.kind];

/** The kinds an enrolment the register holds can be, by its BRIN's sector. */
const SCHOOL_SECTORS = new Set<ParticipationKind>(['VO', 'VSO', 'VAVO']);

/**
 * One enrolment as a participation, with its latest period's data: VSO or VAVO when the RIO stand-in gives
 * its BRIN that sector, VO otherwise.
 */
export function participationOf(enrolment: StoredEnrolment, sectors?: ReadonlyMap<string, string>): Participation {
  const { stand } = enrolment;
  const latest = [...stand.perioden].sort((a, b) => (a.datumBegin < b.datumBegin ? -1 : 1)).at(-1);
  const sector = sectors?.get(enrolment.brin) as ParticipationKind | undefined;
  return {
    kind: sector !== undefined && SCHOOL_SECTORS.has(sector) ? sector : 'VO',
    brin: enrolment.brin,
    inschrijvingvolgnummer: enrolment.inschrijvingvolgnummer,
    ...(latest?.onderwijsaanbieder ? { onderwijsaanbieder: latest.onderwijsaanbieder } : {}),
    ...(latest?.onderwijslocatie ? { onderwijslocatie: latest.onderwijslocatie } : {}),
    datumInschrijving: stand.datumInschrijving,
    ...(stand.datumUitschrijving ? { datumUitschrijving: stand.datumUitschrijving } : {}),
    opleidingcode: latest?.opleidingcode ?? '',
    ...(latest?.leerjaar !== undefined ? { leerjaar: latest.leerjaar } : {}),
  };
}

/**
 * The latest or current participation: of those running today the one that began last; when none runs,
 * the one that ended last (then began last). One that has not begun yet is neither.
 */
export function latestOrCurrent(participations: readonly Participation[], today: IsoDate): Participation | undefined {
  const byStart = (a: Participation, b: Participation): number =>
    a.datumInschrijving === b.datumInschrijving ? 0 : a.datumInschrijving < b.datumInschrijving ? -1 : 1;
  const running = participations.filter((p) => runsOn(p, today)).sort(byStart);
  if (running.length > 0) return running.at(-1);
  return participations
    .filter((p) => p.datumUitschrijving !== undefined && p.datumUitschrijving < today)
    .sort((a, b) =>
      a.datumUitschrijving === b.datumUitschrijving
        ? byStart(a, b)
        : (a.datumUitschrijving ?? '') < (b.datumUitschrijving ?? '')
          ? -1
          : 1,
    )
    .at(-1);
}

/**
 * Havo and vwo participations from leerjaar 3: every enrolment with a period in leerjaar 3 or higher whose
 * opleidingcode the RIO stand-in gives niveau HAVO or VWO, reported with the highest such period's
 * opleidingcode and leerjaar.
 */
export function havoVwoFromLeerjaar3(
  enrolments: readonly StoredEnrolment[],
  niveaus: ReadonlyMap<string, string>,
  sectors?: ReadonlyMap<string, string>,
): Participation[] {
  const found: Participation[] = [];
  for (const enrolment of enrolments) {
    const periods = enrolment.stand.perioden.filter(
      (p) => HAVO_VWO.has(niveaus.get(p.opleidingcode) ?? '') && (p.leerjaar ?? 0) >= 3,
    );
    const highest = periods
      .sort((a, b) => (a.leerjaar ?? 0) - (b.leerjaar ?? 0) || (a.datumBegin < b.datumBegin ? -1 : 1))
      .at(-1);
    if (!highest) continue;
    found.push({
      ...participationOf(enrolment, sectors),
      opleidingcode: highest.opleidingcode,
      ...(highest.leerjaar !== undefined ? { leerjaar: highest.leerjaar } : {}),
    });
  }
  return found.filter(covered).sort((a, b) => (a.datumInschrijving < b.datumInschrijving ? -1 : 1));
}

/**
 * Whether the student holds a startkwalificatie (our reading: a havo or vwo diploma, an MBO diploma of niveau 2
 * or higher, or any HO degree): `J` when one is found; `N` only when the MBO and HO data are there to look in
 * (`undefined` for a sector means the register does not hold it); otherwise unknown (`undefined`).
 */
export function indicatieStartkwalificatie(
  voDiplomas: readonly Diploma[],
  mboDiplomas: readonly MboDiploma[] | undefined,
  hoDegrees: readonly HoDegree[] | undefined,
): 'J' | 'N' | undefined {
  const vo = voDiplomas.some((d) => STARTKWALIFICATIE_VO.has(d.level.toUpperCase()));
  const mbo = (mboDiplomas ?? []).some((d) => d.niveau !== undefined && STARTKWALIFICATIE_MBO.has(d.niveau));
  const ho = (hoDegrees ?? []).length > 0;
  if (vo || mbo || ho) return 'J';
  return mboDiplomas !== undefined && hoDegrees !== undefined ? 'N' : undefined;
}

/**
 * School years (1 August – 31 July) with an MBO participation, counting only those after the pupil's latest
 * MBO diploma (the years of MBO education it has no diploma for), at most 99. A school year counts once,
 * however many participations ran in it; one still running counts up to today's school year.
 */
export function aantalJarenMboZonderDiploma(
  participations: readonly Participation[],
  diplomas: readonly MboDiploma[],
  today: IsoDate,
): number {
  const lastDiploma = diplomas
    .map((d) => d.datumDiploma)
    .sort()
    .at(-1);
  const years = new Set<number>();
  for (const p of participations) {
    if (p.kind !== 'MBO' || p.datumInschrijving > today) continue;
    const last = p.datumUitschrijving !== undefined && p.datumUitschrijving < today ? p.datumUitschrijving : today;
    for (let year = schoolYearOf(p.datumInschrijving); year <= schoolYearOf(last); year++) {
      if (lastDiploma === undefined || year > schoolYearOf(lastDiploma)) years.add(year);
    }
  }
  return Math.min(years.size, MAX_YEARS);
}

/** The whole picture for one pupil on `today`. */
export function priorEducationOf(sources: PriorEducationSources, today: IsoDate): PriorEducation {
  const vo = sources.enrolments.map((e) => participationOf(e, sources.sectors));
  const all = [...vo, ...(sources.mbo?.participations ?? []), ...(sources.ho?.participations ?? [])].filter(covered);
  const latest = latestOrCurrent(all, today);
  const voDiplomas = sources.diplomas
    .filter((d) => d.diplomaDate >= COVERED_FROM.VO)
    .sort((a, b) => (a.diplomaDate < b.diplomaDate ? -1 : a.diplomaDate > b.diplomaDate ? 1 : 0));
  const mboDiplomas = sources.mbo?.diplomas.filter((d) => d.datumDiploma >= COVERED_FROM.MBO);
  const hoDegrees = sources.ho?.degrees.filter((d) => d.datumGraad >= COVERED_FROM.HO);
  const startkwalificatie = indicatieStartkwalificatie(voDiplomas, mboDiplomas, hoDegrees);
  return {
    ...(latest ? { latestOrCurrent: latest } : {}),
    havoVwoFromLeerjaar3: havoVwoFromLeerjaar3(sources.enrolments, sources.niveaus, sources.sectors),
    voDiplomas,
    mboDiplomas: mboDiplomas ?? [],
    hoDegrees: hoDegrees ?? [],
    ...(startkwalificatie ? { indicatieStartkwalificatie: startkwalificatie } : {}),
    aantalJarenMboZonderDiploma:
      sources.mbo && mboDiplomas
        ? aantalJarenMboZonderDiploma(sources.mbo.participations.filter(covered), mboDiplomas, today)
        : UNKNOWN_YEARS,
  };
}

/**
 * Whether the subscribing institution's own registration of the pupil has ended, as far as the register
 * can tell: it holds the pupil's enrolments at that BRIN, or MBO participations there (the MBO stand-in),
 * that ran on or after the subscription's start day (an older one, ended before the student applied, is
 * not this registration), and every one of those ended before today. Without either at the BRIN this is
 * never true (docs/prior-education.md).
 */
export function registrationEnded(
  enrolments: readonly StoredEnrolment[],
  subscription: { readonly brin: string; readonly startDay: IsoDate },
  today: IsoDate,
  mboParticipations: readonly Participation[] = [],
): boolean {
  const outDates = [
    ...enrolments.filter((e) => e.brin === subscription.brin).map((e) => e.stand.datumUitschrijving),
    ...mboParticipations.filter((p) => p.brin === subscription.brin).map((p) => p.datumUitschrijving),
  ];
  const own = outDates.filter((out) => out === undefined || out >= subscription.startDay);
  return own.length > 0 && own.every((out) => out !== undefined && out < today);
}
