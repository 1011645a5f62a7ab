import { schoolYearOf } from './calendar.js';
import type { IsoDate, PeriodVO } from './enrolment.js';
import { type Signal, signal } from './signals.js';

/** Praktijkonderwijs: left out of the age-per-leerjaar checks, with an upper age of its own. */
export const PRAKTIJKONDERWIJS = '0090';
/** The experiment name (as delivered in `experiment/naam`) of the accelerated VWO programme. */
export const VERSNELD_PROGRAMMA_VWO = 'VERSNELD_PROGRAMMA_VWO';

/** Whole years between two dates. */
export function ageOn(birthDate: IsoDate, on: IsoDate): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

/** 1 August of the school year a period begins in: the day the age checks take the age on. */
export const firstAugustOf = (datumBegin: IsoDate): IsoDate =>
  `${String(schoolYearOf(datumBegin)).padStart(4, '0')}-08-01`;

/** Which age check, if any, a period fails, for a pupil of `age` on 1 August of its school year. */
export function ageFinding(
  age: number,
  period: Pick<PeriodVO, 'opleidingcode' | 'leerjaar'>,
): 'te-oud' | 'te-jong' | 'praktijkonderwijs-te-oud' | null {
  // Handleiding: praktijkonderwijs is left out of both checks below, but may not be older than 20.
  if (period.opleidingcode === PRAKTIJKONDERWIJS) return age > 20 ? 'praktijkonderwijs-te-oud' : null;
  // Handleiding: a pupil may not be younger than 9 (leerjaar or not).
  if (age < 9) return 'te-jong';
  const leerjaar = period.leerjaar;
  if (leerjaar === undefined) return null;
  // Handleiding: leerjaar 1–3 too old when leerjaar + 15 < age; leerjaar 4–6 when leerjaar + 17 < age.
  if (leerjaar >= 1 && leerjaar <= 3 && leerjaar + 15 < age) return 'te-oud';
  if (leerjaar >= 4 && leerjaar <= 6 && leerjaar + 17 < age) return 'te-oud';
  return null;
}

const AGE_SIGNAL = { 'te-oud': 'I0030', 'te-jong': 'I0031', 'praktijkonderwijs-te-oud': 'I0032' } as const;

/** The age checks of every period, with the age on 1 August of the period's school year. */
export function ageSignals(perioden: readonly PeriodVO[], birthDate: IsoDate | undefined): Signal[] {
  if (birthDate === undefined) return [];
  return perioden.flatMap((period) => {
    const finding = ageFinding(ageOn(birthDate, firstAugustOf(period.datumBegin)), period);
    if (finding === null) return [];
    const key = [
      { naam: 'datumBegin', waarde: period.datumBegin },
      ...(period.leerjaar !== undefined ? [{ naam: 'leerjaar', waarde: String(period.leerjaar) }] : []),
    ];
    return [signal(AGE_SIGNAL[finding], key)];
  });
}

/** Handleiding: praktijkonderwijs and the experiment Versneld programma VWO are left out of the leerjaar-step check. */
export const exemptFromLeerjaarStep = (period: Pick<PeriodVO, 'opleidingcode' | 'experimenten'>): boolean =>
  period.opleidingcode === PRAKTIJKONDERWIJS || period.experimenten.includes(VERSNELD_PROGRAMMA_VWO);

/** A leerjaar more than one away from the directly preceding period's, up or down. */
export function leerjaarStepSignals(perioden: readonly PeriodVO[]): Signal[] {
  const ordered = [...perioden].sort((a, b) => a.datumBegin.localeCompare(b.datumBegin));
  return ordered.flatMap((period, index) => {
    const previous = ordered[index - 1];
    if (previous?.leerjaar === undefined || period.leerjaar === undefined) return [];
    // Handleiding: not checked when either period is praktijkonderwijs or in the experiment Versneld programma VWO.
    if (exemptFromLeerjaarStep(period) || exemptFromLeerjaarStep(previous)) return [];
    if (Math.abs(period.leerjaar - previous.leerjaar) <= 1) return [];
    return [
      signal('I0033', [
        { naam: 'datumBegin', waarde: period.datumBegin },
        { naam: 'leerjaar', waarde: String(period.leerjaar) },
        { naam: 'leerjaarVorigePeriode', waarde: String(previous.leerjaar) },
      ]),
    ];
  });
}
