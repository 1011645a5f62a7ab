import { linkDecision, sameBirthDate } from '../../src/register/re-identification.js';

const BSN = '123456782';
const person = { bsn: BSN, birthDate: '2013-04-17', gender: '2' };

describe('birth dates of an onderwijsnummer and a BSN (a 00 part is unknown)', () => {
  test.each([
    ['equal', '2013-04-17', '2013-04-17', true],
    ['another day', '2013-04-18', '2013-04-17', false],
    ['day unknown, same month', '2013-04-00', '2013-04-17', true],
    ['day unknown, another month', '2013-05-00', '2013-04-17', false],
    ['month and day unknown, same year', '2013-00-00', '2013-04-17', true],
    ['month and day unknown, another year', '2012-00-00', '2013-04-17', false],
    ['unknown on the other side', '2013-04-17', '2013-04-00', true],
    ['not a date', '2013-04', '2013-04-17', false],
  ])('%s: %s and %s → %s', (_name, a, b, same) => {
    expect(sameBirthDate(a, b)).toBe(same);
  });
});

describe('linking an onderwijsnummer to the BSN an identification found', () => {
  test.each([
    ['assigned, same birth date and gender', { birthDate: '2013-04-17', gender: '2' }, null, { link: true }],
    [
      'assigned with an incomplete birth date that fits',
      { birthDate: '2013-04-00', gender: '2' },
      null,
      { link: true },
    ],
    ['assigned with gender 3 (unknown): not compared', { birthDate: '2013-04-17', gender: '3' }, null, { link: true }],
    ['never assigned', null, null, { link: false, signal: 'P0003' }],
    ['another birth date', { birthDate: '2013-04-18', gender: '2' }, null, { link: false, signal: 'P0004' }],
    ['another gender', { birthDate: '2013-04-17', gender: '1' }, null, { link: false, signal: 'P0004' }],
    [
      'already linked to this BSN: nothing to do',
      { birthDate: '2013-04-17', gender: '2' },
      BSN,
      { link: false, signal: null },
    ],
    [
      'already linked to another BSN',
      { birthDate: '2013-04-17', gender: '2' },
      '111222333',
      { link: false, signal: 'P0005' },
    ],
    ['already linked elsewhere outranks never assigned', null, '111222333', { link: false, signal: 'P0005' }],
  ])('%s', (_name, assigned, linkedBsn, decision) => {
    expect(linkDecision(assigned, person, linkedBsn)).toEqual(decision);
  });

  test('gender 3 in the population register is not compared either', () => {
    expect(linkDecision({ birthDate: '2013-04-17', gender: '1' }, { ...person, gender: '3' }, null)).toEqual({
      link: true,
    });
  });
});
