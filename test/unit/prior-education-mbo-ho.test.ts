/**
 * Prior education with the MBO and HO stand-in loaded: years covered, niveau 1 against 2, the years of MBO
 * without a diploma across school-year boundaries, MBO and HO competing for the latest or current
 * participation; and the stand-in file's checks.
 */
import { educationRecordsOf } from '../../src/operator/cli/education.command.js';
import type { StoredEnrolment } from '../../src/register/enrolment.js';
import {
  aantalJarenMboZonderDiploma,
  type HoDegree,
  type MboDiploma,
  type Participation,
  type PriorEducationSources,
  priorEducationOf,
  registrationEnded,
} from '../../src/register/prior-education/prior-education-rules.js';

const TODAY = '2026-11-27';
const mbo = (dates: { in: string; out?: string }, volgnummer = '1'): Participation => ({
  kind: 'MBO',
  brin: '41MB',
  inschrijvingvolgnummer: volgnummer,
  datumInschrijving: dates.in,
  ...(dates.out ? { datumUitschrijving: dates.out } : {}),
  opleidingcode: '25503',
});
const ho = (dates: { in: string; out?: string }): Participation => ({
  kind: 'HO',
  brin: '21PB',
  inschrijvingvolgnummer: '1',
  datumInschrijving: dates.in,
  ...(dates.out ? { datumUitschrijving: dates.out } : {}),
  opleidingcode: '34479',
});
const mboDiploma = (niveau: string, datumDiploma: string): MboDiploma => ({
  brin: '41MB',
  opleidingcode: '25503',
  niveau,
  datumDiploma,
  resultaten: [
    { onderdeel: 'NE', eindcijfer: '7' },
    { onderdeel: 'KZ01', beoordeling: 'V' },
  ],
});
const degree = (datumGraad: string): HoDegree => ({ brin: '21PB', opleidingcode: '34479', graad: 'BA', datumGraad });
const vo = (dates: { in: string; out?: string }): StoredEnrolment => ({
  brin: '31AA',
  inschrijvingvolgnummer: '31AA-1',
  pgn: '123456782',
  documentTime: '2026-01-01T00:00:00.000Z',
  sourceMessageId: 1,
  administrationOin: null,
  stand: {
    pgn: { kind: 'BSN', value: '123456782' },
    brin: '31AA',
    inschrijvingvolgnummer: '31AA-1',
    datumInschrijving: dates.in,
    ...(dates.out ? { datumUitschrijving: dates.out } : {}),
    perioden: [
      {
        datumBegin: dates.in,
        opleidingcode: '0050',
        aanvullendeOpleidingen: [],
        vestiging: '31AA00',
        leerjaar: 4,
        indicatieBekostigbaar: true,
        experimenten: [],
      },
    ],
    ontwikkelingsperspectieven: [],
    verblijvenAndereInstelling: [],
  },
});

/** Sources with the stand-in loaded: what is not given is held and empty. */
function loaded(given: {
  enrolments?: StoredEnrolment[];
  mbo?: Participation[];
  mboDiplomas?: MboDiploma[];
  ho?: Participation[];
  degrees?: HoDegree[];
}): PriorEducationSources {
  return {
    enrolments: given.enrolments ?? [],
    niveaus: new Map(),
    diplomas: [],
    mbo: { participations: given.mbo ?? [], diplomas: given.mboDiplomas ?? [] },
    ho: { participations: given.ho ?? [], degrees: given.degrees ?? [] },
  };
}

describe('years covered by the MBO and HO stand-in', () => {
  test('MBO from 1 January 2007: a participation that ended on 31 December 2006 and a diploma of that day are not reported', () => {
    const old = mbo({ in: '2005-08-01', out: '2006-12-31' });
    const picture = priorEducationOf(loaded({ mbo: [old], mboDiplomas: [mboDiploma('2', '2006-12-31')] }), TODAY);
    expect(picture.latestOrCurrent).toBeUndefined();
    expect(picture.mboDiplomas).toEqual([]);
    // Not there to count either: nothing followed, nothing held.
    expect(picture.aantalJarenMboZonderDiploma).toBe(0);
    expect(picture.indicatieStartkwalificatie).toBe('N');
    const onTheDay = priorEducationOf(
      loaded({ mbo: [mbo({ in: '2005-08-01', out: '2007-01-01' })], mboDiplomas: [mboDiploma('2', '2007-01-01')] }),
      TODAY,
    );
    expect(onTheDay.latestOrCurrent?.kind).toBe('MBO');
    expect(onTheDay.mboDiplomas).toHaveLength(1);
    expect(onTheDay.indicatieStartkwalificatie).toBe('J');
  });

  test('HO from 1 January 1991: a degree of 31 December 1990 is neither reported nor a startkwalificatie', () => {
    const before = priorEducationOf(
      loaded({ ho: [ho({ in: '1986-09-01', out: '1990-12-31' })], degrees: [degree('1990-12-31')] }),
      TODAY,
    );
    expect([before.latestOrCurrent, before.hoDegrees, before.indicatieStartkwalificatie]).toEqual([undefined, [], 'N']);
    const from = priorEducationOf(
      loaded({ ho: [ho({ in: '1986-09-01', out: '1991-01-01' })], degrees: [degree('1991-01-01')] }),
      TODAY,
    );
    expect([from.latestOrCurrent?.kind, from.hoDegrees.length, from.indicatieStartkwalificatie]).toEqual([
      'HO',
      1,
      'J',
    ]);
  });
});

describe('the indications with MBO and HO held', () => {
  test('an MBO diploma of niveau 1 is no startkwalificatie, one of niveau 2 is; both are reported with their results', () => {
    const one = priorEducationOf(loaded({ mboDiplomas: [mboDiploma('1', '2020-07-01')] }), TODAY);
    expect(one.indicatieStartkwalificatie).toBe('N');
    expect(one.mboDiplomas[0]?.resultaten).toEqual([
      { onderdeel: 'NE', eindcijfer: '7' },
      { onderdeel: 'KZ01', beoordeling: 'V' },
    ]);
    const two = priorEducationOf(
      loaded({ mboDiplomas: [mboDiploma('1', '2020-07-01'), mboDiploma('2', '2021-07-01')] }),
      TODAY,
    );
    expect(two.indicatieStartkwalificatie).toBe('J');
    expect(two.mboDiplomas.map((d) => d.niveau)).toEqual(['1', '2']);
  });

  test('years without a diploma count school years (1 August – 31 July) across their boundaries, each once', () => {
    // 31 July and 1 August are two school years.
    expect(aantalJarenMboZonderDiploma([mbo({ in: '2023-07-31', out: '2023-08-01' })], [], TODAY)).toBe(2);
    // 1 August to 31 July is one.
    expect(aantalJarenMboZonderDiploma([mbo({ in: '2023-08-01', out: '2024-07-31' })], [], TODAY)).toBe(1);
    // Two participations in the same school year count it once.
    expect(
      aantalJarenMboZonderDiploma(
        [mbo({ in: '2023-09-01', out: '2023-12-31' }), mbo({ in: '2024-02-01', out: '2024-06-30' }, '2')],
        [],
        TODAY,
      ),
    ).toBe(1);
    // A diploma on 31 July 2024 closes school year 2023/24: only 2024/25 on counts.
    const running = mbo({ in: '2022-08-01' });
    expect(aantalJarenMboZonderDiploma([running], [mboDiploma('1', '2024-07-31')], TODAY)).toBe(3);
    // One on 1 August 2024 falls in 2024/25: that year is no longer without a diploma.
    expect(aantalJarenMboZonderDiploma([running], [mboDiploma('1', '2024-08-01')], TODAY)).toBe(2);
    // A participation that has not begun yet counts nothing.
    expect(aantalJarenMboZonderDiploma([mbo({ in: '2027-08-01' })], [], TODAY)).toBe(0);
  });

  test('held and empty: N and 0, not left out and 99', () => {
    const picture = priorEducationOf(loaded({}), TODAY);
    expect([picture.indicatieStartkwalificatie, picture.aantalJarenMboZonderDiploma]).toEqual(['N', 0]);
  });
});

describe('the latest or current participation with MBO and HO', () => {
  test('a running MBO participation beats a VO one that ended; a running HO one that began later beats both', () => {
    const school = vo({ in: '2019-08-20', out: '2025-07-31' });
    const mboNow = mbo({ in: '2025-08-25' });
    expect(priorEducationOf(loaded({ enrolments: [school], mbo: [mboNow] }), TODAY).latestOrCurrent).toEqual(mboNow);
    const hoNow = ho({ in: '2026-09-01' });
    expect(
      priorEducationOf(loaded({ enrolments: [school], mbo: [mboNow], ho: [hoNow] }), TODAY).latestOrCurrent,
    ).toEqual(hoNow);
    // With none running, the one that ended last: an HO stay that ended after the MBO one.
    const ended = priorEducationOf(
      loaded({
        enrolments: [school],
        mbo: [mbo({ in: '2025-08-25', out: '2026-01-31' })],
        ho: [ho({ in: '2026-02-01', out: '2026-06-30' })],
      }),
      TODAY,
    );
    expect(ended.latestOrCurrent?.kind).toBe('HO');
  });
});

describe('VSO and VAVO by the RIO stand-in’s sector of the BRIN', () => {
  const sectors = (sector: string) => new Map([['31AA', sector]]);
  const endedIn2011 = vo({ in: '2008-08-20', out: '2011-12-31' });
  test('an enrolment at a VSO or VAVO BRIN is reported as such; an unknown BRIN or sector stays VO', () => {
    const running = vo({ in: '2025-08-20' });
    const kindAt = (map?: Map<string, string>) =>
      priorEducationOf({ ...loaded({ enrolments: [running] }), ...(map ? { sectors: map } : {}) }, TODAY)
        .latestOrCurrent?.kind;
    expect([
      kindAt(sectors('VSO')),
      kindAt(sectors('VAVO')),
      kindAt(sectors('VO')),
      kindAt(),
      kindAt(sectors('MBO')),
    ]).toEqual(['VSO', 'VAVO', 'VO', 'VO', 'VO']);
  });

  test('each sector’s years covered apply: VSO from 2012, VAVO from 2007, VO from 2006', () => {
    const latestAt = (sector: string) =>
      priorEducationOf({ ...loaded({ enrolments: [endedIn2011] }), sectors: sectors(sector) }, TODAY).latestOrCurrent
        ?.kind;
    expect([latestAt('VSO'), latestAt('VAVO'), latestAt('VO')]).toEqual([undefined, 'VAVO', 'VO']);
  });
});

describe('the end of the own registration, with MBO participations', () => {
  const subscription = { brin: '41MB', startDay: '2026-09-15' };
  test('an MBO participation at the subscribing BRIN that ran on or after the start day and ended before today ends it', () => {
    expect(registrationEnded([], subscription, TODAY, [mbo({ in: '2026-08-25', out: '2026-11-26' })])).toBe(true);
    // Its last day is today: still registered.
    expect(registrationEnded([], subscription, TODAY, [mbo({ in: '2026-08-25', out: TODAY })])).toBe(false);
    // Ended before the subscription began: an earlier registration, not this one.
    expect(registrationEnded([], subscription, TODAY, [mbo({ in: '2025-08-25', out: '2026-09-14' })])).toBe(false);
    // Another participation there still runs.
    expect(
      registrationEnded([], subscription, TODAY, [
        mbo({ in: '2026-08-25', out: '2026-11-26' }),
        mbo({ in: '2026-11-27' }, '2'),
      ]),
    ).toBe(false);
    // At another BRIN: not the subscriber's registration.
    expect(
      registrationEnded([], { ...subscription, brin: '42MB' }, TODAY, [mbo({ in: '2026-08-25', out: '2026-11-26' })]),
    ).toBe(false);
  });
});

describe('the stand-in file (education load)', () => {
  const base = { pgn: '123456782', brin: '41MB' };
  test('takes the four kinds of record', () => {
    const records = educationRecordsOf([
      {
        ...base,
        kind: 'mbo-deelname',
        volgnummer: 'A1',
        crebo: '25503',
        niveau: 2,
        datumInschrijving: '2024-08-01',
        leerweg: 'BOL',
      },
      {
        ...base,
        kind: 'mbo-diploma',
        crebo: '25503',
        niveau: '2',
        datumDiploma: '2025-07-01',
        resultaten: [{ onderdeel: 'NE', eindcijfer: '7' }],
      },
      {
        ...base,
        brin: '21PB',
        kind: 'ho-deelname',
        volgnummer: '1',
        opleidingcode: '34479',
        datumInschrijving: '2025-09-01',
      },
      { ...base, brin: '21PB', kind: 'ho-graad', opleidingcode: '34479', graad: 'BA', datumGraad: '2026-07-01' },
    ]);
    expect(records.map((r) => r.kind)).toEqual(['mbo-deelname', 'mbo-diploma', 'ho-deelname', 'ho-graad']);
    expect(records[1]).toEqual(
      expect.objectContaining({ niveau: 2, resultaten: [{ onderdeel: 'NE', eindcijfer: '7' }] }),
    );
  });

  test.each([
    [{ kind: 'vo-deelname' }, 'record 1: kind must be one of'],
    [{ kind: 'ho-graad', pgn: '123456789', brin: '21PB' }, 'record 1: pgn must be a BSN or an onderwijsnummer'],
    [
      { ...base, kind: 'mbo-deelname', volgnummer: '1', crebo: '25503', niveau: 5, datumInschrijving: '2024-08-01' },
      'record 1: niveau must be 1, 2, 3 or 4',
    ],
    [
      {
        ...base,
        kind: 'mbo-deelname',
        volgnummer: '1',
        crebo: '25503',
        niveau: 2,
        datumInschrijving: '2024-08-01',
        datumUitschrijving: '2024-07-31',
      },
      'record 1: datumUitschrijving lies before datumInschrijving',
    ],
    [
      { ...base, kind: 'mbo-diploma', crebo: '25503', niveau: 2, datumDiploma: '2025-02-30' },
      'record 1: datumDiploma must be a date YYYY-MM-DD',
    ],
    [
      {
        ...base,
        kind: 'mbo-diploma',
        crebo: '25503',
        niveau: 2,
        datumDiploma: '2025-07-01',
        resultaten: [{ eindcijfer: '7' }],
      },
      'record 1, resultaat 1: onderdeel missing',
    ],
    [{ ...base, brin: '21pb', kind: 'ho-graad' }, 'record 1: brin must be two digits and two capitals'],
  ])('refuses a bad record with its reason (%#)', (record, reason) => {
    expect(() => educationRecordsOf([record])).toThrow(reason);
  });

  test('refuses one participation twice and a file that is not an array', () => {
    const line = {
      ...base,
      kind: 'ho-deelname',
      volgnummer: '1',
      opleidingcode: '34479',
      datumInschrijving: '2025-09-01',
    };
    expect(() => educationRecordsOf([line, line])).toThrow(
      'record 2: a ho-deelname at 41MB with this volgnummer appears twice',
    );
    expect(() => educationRecordsOf({})).toThrow('the file must hold a JSON array');
    // An empty file would put the stand-in in use with nothing in it.
    expect(() => educationRecordsOf([])).toThrow('the file holds no records');
  });
});
