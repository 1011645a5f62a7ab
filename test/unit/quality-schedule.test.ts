import { latestSlot, parseSchedule } from '../../src/infra/schedule.js';

const weekly = { cron: '0 3 * * 6', timezone: 'Europe/Amsterdam' };

describe('quality schedule slots', () => {
  test.each([
    [
      'exactly on the slot (winter: 03:00 Amsterdam is 02:00 UTC)',
      '2026-12-05T02:00:00.000Z',
      '2026-12-05T02:00:00.000Z',
    ],
    ["a millisecond before it: last week's", '2026-12-05T01:59:59.999Z', '2026-11-28T02:00:00.000Z'],
    ['mid-week', '2026-12-09T12:00:00.000Z', '2026-12-05T02:00:00.000Z'],
    ['summer time: 03:00 Amsterdam is 01:00 UTC', '2026-07-01T00:00:00.000Z', '2026-06-27T01:00:00.000Z'],
  ])('%s', (_name, now, slot) => {
    expect(latestSlot(weekly, new Date(now)).toISOString()).toBe(slot);
  });

  test('another zone and expression: Sundays 22:30 UTC', () => {
    expect(latestSlot({ cron: '30 22 * * 0', timezone: 'UTC' }, new Date('2026-12-09T12:00:00Z')).toISOString()).toBe(
      '2026-12-06T22:30:00.000Z',
    );
  });

  test.each([
    ['weekly', 'UTC'],
    ['0 3 * * 8', 'UTC'],
    ['0 3 * * 6', 'Nowhere/Land'],
  ])('%s in %s is refused', (cron, timezone) => {
    expect(() => parseSchedule({ cron, timezone })).toThrow();
  });
});
