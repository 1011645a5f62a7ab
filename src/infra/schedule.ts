import { CronExpressionParser } from 'cron-parser';

/** When the quality checks run: a cron expression in a time zone (`QUALITY_SCHEDULE`, `QUALITY_TIMEZONE`). */
export interface QualitySchedule {
  readonly cron: string;
  readonly timezone: string;
}

/** Throws when the expression or the time zone is not valid (config.ts reports it at start-up). */
export function parseSchedule(schedule: QualitySchedule): void {
  new Intl.DateTimeFormat('en', { timeZone: schedule.timezone });
  CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, strict: false });
}

/** The latest slot of the schedule at or before `now`. */
export function latestSlot(schedule: QualitySchedule, now: Date): Date {
  // prev() is strictly before its start: a run exactly on the slot must find that slot.
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(now.getTime() + 1) })
    .prev()
    .toDate();
}
