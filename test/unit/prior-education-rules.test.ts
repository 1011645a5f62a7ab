/** Prior education's pure rules at their edges: the nine months, which participations and diplomas count, the indications. */
import type { Diploma } from '../../src/register/diploma.js';
import type { PeriodVO, StoredEnrolment } from '../../src/register/enrolment.js';
import {
  aantalJarenMboZonderDiploma,
  indicatieStartkwalificatie,
  latestOrCurrent,
  type Participation,
  priorEducationOf,
  registrationEnded,
} from '../../src/register/prior-education/prior-education-rules.js';
import { runsAt, type Subscription, subscriptionEnd } from '../../src/register/prior-education/subscription.js';

const period = (datumBegin: string, opleidingcode: string, leerjaar?: number): PeriodVO => ({
  datumBegin,
  opleidingcode,
  aanvullendeOpleidingen: [],
  vestiging: '31AA00',
  ...(leerjaar !== undefined ? { leerjaar } : {}),
  indicatieBekostigbaar: true,
  experimenten: [],
});
const enrolment = (brin: string, dates: { in: string; out?: string }, perioden: PeriodVO[]): StoredEnrolment => ({
  brin,
  inschrijvingvolgnummer: `${brin}-1`,
  pgn: '123456782',
  documentTime: '2026-01-01T00:00:00.000Z',
  sourceMessageId: 1,
  administrationOin: null,
  stand: {
    pgn: { kind: 'BSN', value: '123456782' },
    brin,
    inschrijvingvolgnummer: `${brin}-1`,
    datumInschrijving: dates.in,
    ...(dates.out ? { datumUitschrijving: dates.out } : {}),
    perioden,
    ontwikkelingsperspectieven: [],
    verblijvenAndereInstelling: [],
  },
});
const participation = (
  kind: Participation['kind'],
  dates: { in: string; out?: string },
  brin = '31AA',
): Participation => ({
  kind,
  brin,
  inschrijvingvolgnummer: '1',
  datumInschrijving: dates.in,
  ...(dates.out ? { datumUitschrijving: dates.out } : {}),
  opleidingcode: '0050',
});
const diploma = (level: string, diplomaDate: string): Diploma => ({ brin: '31AA', level, diplomaDate, subjects: [] });
/** The RIO stand-in's niveaus: 2741 havo, 2751 vwo, 0050 vmbo. */
const NIVEAUS = new Map<string, string>([
  ['2741', 'HAVO'],
  ['2751', 'VWO'],
  ['0050', 'VMBO_TL'],
]);
const NONE = { mboParticipations: [], mboDiplomas: [], hoParticipations: [], hoDegrees: [] };

describe('the nine months of a subscription', () => {
  test('end the same instant nine calendar months later; a month end clamps', () => {
    expect(subscriptionEnd(new Date('2026-11-27T12:00:00.123Z')).toISOString()).toBe('2027-08-27T12:00:00.123Z');
    expect(subscriptionEnd(new Date('2026-05-31T08:00:00Z')).toISOString()).toBe('2027-02-28T08:00:00.000Z');
    expect(subscriptionEnd(new Date('2027-05-31T08:00:00Z')).toISOString()).toBe('2028-02-29T08:00:00.000Z');
  });

  test('run until the instant before their end, not at it, and not once ended', () => {
    const s: Subscription = {
      id: 1,
      institutionOin: 'x',
      brin: '41MB',
      pgn: '123456782',
      startedAt: new Date('2026-11-27T12:00:00Z'),
      endsAt: new Date('2027-08-27T12:00:00Z'),
      endedAt: null,
      endReason: null,
    };
    expect(runsAt(s, new Date('2027-08-27T11:59:59.999Z'))).toBe(true);
    expect(runsAt(s, new Date('2027-08-27T12:00:00Z'))).toBe(false);
    expect(runsAt({ ...s, endedAt: new Date('2027-01-01T00:00:00Z'), endReason: 'stopped' }, s.startedAt)).toBe(false);
  });
});

describe('participations', () => {
  test('the current one is the running one that began last; with none running, the one that ended last', () => {
    const old = participation('VO', { in: '2018-08-01', out: '2024-07-31' });
    const later = participation('VO', { in: '2024-08-01', out: '2025-07-31' }, '32AA');
    const running = participation('VO', { in: '2025-08-01' }, '33AA');
    const future = participation('VO', { in: '2027-08-01' }, '34AA');
    expect(latestOrCurrent([old, running, later, future], '2026-11-27')).toBe(running);
    expect(latestOrCurrent([old, later, future], '2026-11-27')).toBe(later);
    // The out-date is the last day: on it the participation still runs.
    expect(latestOrCurrent([later, old], '2025-07-31')).toBe(later);
    expect(latestOrCurrent([future], '2026-11-27')).toBeUndefined();
  });

  test('havo and vwo from leerjaar 3, with the highest such period; vmbo and leerjaar 2 are not', () => {
    const picture = priorEducationOf(
      {
        enrolments: [
          enrolment('31AA', { in: '2020-08-01', out: '2023-07-31' }, [
            period('2020-08-01', '2741', 2),
            period('2021-08-01', '2741', 3),
            period('2022-08-01', '2741', 4),
          ]),
          enrolment('32AA', { in: '2023-08-01' }, [period('2023-08-01', '2751', 2)]),
          enrolment('33AA', { in: '2019-08-01', out: '2020-07-31' }, [period('2019-08-01', '0050', 3)]),
        ],
        niveaus: NIVEAUS,
        diplomas: [],
        ...NONE,
      },
      '2026-11-27',
    );
    expect(picture.havoVwoFromLeerjaar3.map((p) => [p.brin, p.opleidingcode, p.leerjaar])).toEqual([
      ['31AA', '2741', 4],
    ]);
    expect(picture.latestOrCurrent?.brin).toBe('32AA');
  });

  test('VO participations are reported when they ran in 2006 or later', () => {
    const vo = enrolment('32AA', { in: '2004-08-01', out: '2006-01-01' }, [period('2004-08-01', '0050', 1)]);
    const picture = (e: StoredEnrolment[]) =>
      priorEducationOf({ enrolments: e, niveaus: NIVEAUS, diplomas: [], ...NONE }, '2026-11-27').latestOrCurrent;
    expect(picture([vo])?.kind).toBe('VO');
    expect(picture([{ ...vo, stand: { ...vo.stand, datumUitschrijving: '2005-12-31' } }])).toBeUndefined();
  });
});

describe('diplomas and indications', () => {
  test('VO diplomas from 2006 on, oldest first; a havo or vwo diploma is a startkwalificatie, vmbo is not', () => {
    const picture = priorEducationOf(
      {
        enrolments: [],
        niveaus: NIVEAUS,
        diplomas: [diploma('HAVO', '2024-07-10'), diploma('VMBO_TL', '2022-07-10'), diploma('VWO', '2005-07-10')],
        ...NONE,
      },
      '2026-11-27',
    );
    expect(picture.voDiplomas.map((d) => d.level)).toEqual(['VMBO_TL', 'HAVO']);
    expect(picture.indicatieStartkwalificatie).toBe('J');
    expect(indicatieStartkwalificatie([diploma('VMBO_TL', '2022-07-10')], [])).toBe('N');
    expect(
      indicatieStartkwalificatie(
        [],
        [{ brin: '41MB', opleidingcode: '25503', niveau: '2', datumDiploma: '2020-07-01' }],
      ),
    ).toBe('J');
    expect(
      indicatieStartkwalificatie(
        [],
        [{ brin: '41MB', opleidingcode: '25503', niveau: '1', datumDiploma: '2020-07-01' }],
      ),
    ).toBe('N');
  });

  test('years of MBO without a diploma: school years with MBO after the latest MBO diploma, each once', () => {
    const mbo = participation('MBO', { in: '2022-08-01', out: '2024-02-01' }, '41MB');
    const again = participation('MBO', { in: '2024-03-01' }, '42MB');
    expect(aantalJarenMboZonderDiploma([], [], '2026-11-27')).toBe(0);
    expect(aantalJarenMboZonderDiploma([mbo], [], '2026-11-27')).toBe(2); // 2022/23 and 2023/24
    expect(aantalJarenMboZonderDiploma([mbo, again], [], '2026-11-27')).toBe(5); // 2022/23 up to 2026/27
    const diplomaIn2024 = { brin: '41MB', opleidingcode: '1', niveau: '2', datumDiploma: '2024-01-15' };
    expect(aantalJarenMboZonderDiploma([mbo, again], [diplomaIn2024], '2026-11-27')).toBe(3);
  });

  test('the register holds no MBO or HO data: those sections stay empty and the count is 0', () => {
    const picture = priorEducationOf({ enrolments: [], niveaus: NIVEAUS, diplomas: [], ...NONE }, '2026-11-27');
    expect(picture).toEqual({
      havoVwoFromLeerjaar3: [],
      voDiplomas: [],
      mboDiplomas: [],
      hoDegrees: [],
      indicatieStartkwalificatie: 'N',
      aantalJarenMboZonderDiploma: 0,
    });
  });
});

describe('the end of the own registration', () => {
  const own = (out?: string) =>
    enrolment('41MB', { in: '2025-08-01', ...(out ? { out } : {}) }, [period('2025-08-01', '0050', 1)]);
  test('ends when every enrolment the register holds at that BRIN ended before today', () => {
    expect(registrationEnded([own('2026-11-26')], '41MB', '2026-11-27')).toBe(true);
    expect(registrationEnded([own('2026-11-27')], '41MB', '2026-11-27')).toBe(false); // its last day
    expect(registrationEnded([own()], '41MB', '2026-11-27')).toBe(false);
    expect(
      registrationEnded([own('2026-11-26'), { ...own(), inschrijvingvolgnummer: '2' }], '41MB', '2026-11-27'),
    ).toBe(false);
    // No enrolment at that BRIN (an MBO institution's own is not in this register): never ended here.
    expect(registrationEnded([own('2026-11-26')], '31AA', '2026-11-27')).toBe(false);
  });
});
