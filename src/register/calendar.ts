import type { IsoDate } from './enrolment.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `date` moved by whole calendar months; a day past the target month's end becomes its last day (31 Aug − 6 months = 28/29 Feb). */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth, 0)).getUTCDate();
  return `${pad(targetYear, 4)}-${pad(targetMonth)}-${pad(Math.min(day, lastDay))}`;
}

/** A school year runs from 1 August to 31 July; it is named by the year it starts in. */
export function schoolYearOf(date: IsoDate): number {
  const year = Number(date.slice(0, 4));
  return date.slice(5) >= '08-01' ? year : year - 1;
}

/** The funding count date (peildatum) of a school year: 1 October. */
export const peildatumOf = (schoolYear: number): IsoDate => `${pad(schoolYear, 4)}-10-01`;

const DUTCH_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in the Netherlands at `instant`: the register's days are Dutch days, not UTC ones (until 01:00/02:00 UTC is still yesterday). */
export function dutchDate(instant: Date): IsoDate {
  return DUTCH_DAY.format(instant);
}

const DUTCH_WALL_CLOCK = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** A time on the clocks in the Netherlands: the calendar day and the milliseconds since its midnight. */
export interface DutchWallClock {
  readonly date: IsoDate;
  readonly msOfDay: number;
}

/** The Dutch wall clock at `instant` (CET or CEST, whichever applies then). */
export function dutchWallClock(instant: Date): DutchWallClock {
  const part = Object.fromEntries(DUTCH_WALL_CLOCK.formatToParts(instant).map((p) => [p.type, p.value]));
  const msOfDay =
    ((Number(part.hour) * 60 + Number(part.minute)) * 60 + Number(part.second)) * 1000 + instant.getUTCMilliseconds();
  return { date: `${part.year}-${part.month}-${part.day}`, msOfDay };
}

/** The wall clock as if it were UTC, in epoch milliseconds: instant + the Dutch offset then. */
const wallMs = (wall: DutchWallClock): number => Date.parse(`${wall.date}T00:00:00Z`) + wall.msOfDay;

/**
 * The instant the Dutch clocks show `wall`. In the autumn hour that occurs twice, the first (summer time);
 * in the spring hour that does not occur, the instant an hour later on the clock (02:30 → 03:30 summer time).
 */
export function fromDutchWallClock(wall: DutchWallClock): Date {
  const target = wallMs(wall);
  const offsetAt = (ms: number): number => wallMs(dutchWallClock(new Date(ms))) - ms;
  // The offsets in force a day either side: the one or two the wall time can have.
  const offsets = [...new Set([offsetAt(target - 86_400_000), offsetAt(target + 86_400_000)])].sort((a, b) => b - a);
  for (const offset of offsets) if (offsetAt(target - offset) === offset) return new Date(target - offset);
  return new Date(target - Math.min(...offsets));
}
