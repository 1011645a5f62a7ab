/** Prior education's pure rules at their edges: the nine months, which participations and diplomas count, the indications. */

import { dutchDate } from '../../src/register/calendar.js';
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
/** A register that holds MBO and HO data, none for this student. */
const NONE = { mbo: { participations: [], diplomas: [] }, ho: { participations: [], degrees: [] } };

describe('the nine months of a subscription', () => {
  test('end at the same Dutch wall-clock time nine calendar months later; a month end clamps', () => {
    // 13:00 winter time → 13:00 summer time: an hour less in UTC.
    expect(subscriptionEnd(new Date('2026-11-27T12:00:00.123Z')).toISOString()).toBe('2027-08-27T11:00:00.123Z');
    expect(subscriptionEnd(new Date('2026-05-31T08:00:00Z')).toISOString()).toBe('2027-02-28T09:00:00.000Z');
    expect(subscriptionEnd(new Date('2027-05-31T08:00:00Z')).toISOString()).toBe('2028-02-29T09:00:00.000Z');
  });

  test('are counted on Dutch days, not UTC ones, at 00:30 on 1 March and 31 May', () => {
    // 00:30 on 1 March in Amsterdam is still 28 February in UTC: it ends on 1 December, 00:30.
    const march = subscriptionEnd(new Date('2027-02-28T23:30:00Z'));
    expect(march.toISOString()).toBe('2027-11-30T23:30:00.000Z');
    expect(dutchDate(march)).toBe('2027-12-01');
    // 00:30 on 31 May (summer time) is 30 May in UTC: it ends on the last day of February, 00:30 winter time.
    const may = subscriptionEnd(new Date('2026-05-30T22:30:00Z'));
    expect(may.toISOString()).toBe('2027-02-27T23:30:00.000Z');
    expect(dutchDate(may)).toBe('2027-02-28');
  });

  test('an end in the hour the spring change skips is an hour later on the clock; one in the doubled hour the first', () => {
    // 02:30 summer time on 28 June 2026 → 28 March 2027, 02:30 does not exist there: 03:30 summer time.
    expect(subscriptionEnd(new Date('2026-06-28T00:30:00Z')).toISOString()).toBe('2027-03-28T01:30:00.000Z');
    // 02:30 winter time on 31 January 2027 → 31 October 2027, 02:30 occurs twice: the first (summer time).
    expect(subscriptionEnd(new Date('2027-01-31T01:30:00Z')).toISOString()).toBe('2027-10-31T00:30:00.000Z');
  });

  test('run until the instant before their end, not at it, and not once ended', () => {
    const s: Subscription = {
      id: 1,
      institutionOin: 'x',
      brin: '41MB',
      pgn: '123456782',
      pgnKind: 'BSN',
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
    expect(indicatieStartkwalificatie([diploma('VMBO_TL', '2022-07-10')], [], [])).toBe('N');
    expect(
      indicatieStartkwalificatie(
        [],
        [{ brin: '41MB', opleidingcode: '25503', niveau: '2', datumDiploma: '2020-07-01' }],
        [],
      ),
    ).toBe('J');
    expect(
      indicatieStartkwalificatie(
        [],
        [{ brin: '41MB', opleidingcode: '25503', niveau: '1', datumDiploma: '2020-07-01' }],
        [],
      ),
    ).toBe('N');
  });

  test('an HO degree is a startkwalificatie too', () => {
    const degree = { brin: '21PB', opleidingcode: '34479', graad: 'BACHELOR', datumGraad: '2019-07-01' };
    expect(indicatieStartkwalificatie([diploma('VMBO_TL', '2012-07-10')], [], [degree])).toBe('J');
    expect(indicatieStartkwalificatie([], undefined, [degree])).toBe('J');
  });

  test('without MBO or HO data the register cannot say N, nor count MBO years: left out, and 99', () => {
    const withoutMboHo = { enrolments: [], niveaus: NIVEAUS, diplomas: [diploma('VMBO_TL', '2022-07-10')] };
    const picture = priorEducationOf(withoutMboHo, '2026-11-27');
    expect(picture.indicatieStartkwalificatie).toBeUndefined();
    expect(picture.aantalJarenMboZonderDiploma).toBe(99);
    expect(indicatieStartkwalificatie([], [], undefined)).toBeUndefined();
    expect(indicatieStartkwalificatie([], undefined, [])).toBeUndefined();
    // A havo diploma is one whatever the other sectors hold.
    expect(
      priorEducationOf({ ...withoutMboHo, diplomas: [diploma('HAVO', '2024-07-10')] }, '2026-11-27')
        .indicatieStartkwalificatie,
    ).toBe('J');
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

  test('a register with MBO and HO data but none for the student: empty sections, N and 0', () => {
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
  const own = (out?: string, dates: { in: string } = { in: '2025-08-01' }) =>
    enrolment('41MB', { ...dates, ...(out ? { out } : {}) }, [period(dates.in, '0050', 1)]);
  const since = (startDay: string, brin = '41MB') => ({ brin, startDay });
  test('ends when every enrolment the register holds at that BRIN ended before today', () => {
    expect(registrationEnded([own('2026-11-26')], since('2026-09-01'), '2026-11-27')).toBe(true);
    expect(registrationEnded([own('2026-11-27')], since('2026-09-01'), '2026-11-27')).toBe(false); // its last day
    expect(registrationEnded([own()], since('2026-09-01'), '2026-11-27')).toBe(false);
    expect(
      registrationEnded(
        [own('2026-11-26'), { ...own(), inschrijvingvolgnummer: '2' }],
        since('2026-09-01'),
        '2026-11-27',
      ),
    ).toBe(false);
    // No enrolment at that BRIN (an MBO institution's own is not in this register): never ended here.
    expect(registrationEnded([own('2026-11-26')], since('2026-09-01', '31AA'), '2026-11-27')).toBe(false);
  });

  test('an enrolment that ended before the subscription began is not the registration it follows', () => {
    const old = own('2024-07-31', { in: '2020-08-01' });
    expect(registrationEnded([old], since('2026-11-27'), '2026-11-27')).toBe(false);
    expect(registrationEnded([old], since('2026-11-27'), '2026-11-28')).toBe(false);
    // Ending on the start day itself counts: it ran on that day.
    expect(registrationEnded([own('2026-11-27')], since('2026-11-27'), '2026-11-28')).toBe(true);
    // An old one next to a running one: the running one decides.
    expect(registrationEnded([old, own()], since('2026-11-27'), '2026-11-28')).toBe(false);
  });
});
