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
