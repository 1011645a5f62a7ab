import { OperatorInputError, parseDuration, parseErrorFilter } from '../../src/operator/input.js';

describe('operator input', () => {
  test('an error filter from CLI options or query parameters', () => {
    expect(parseErrorFilter({ institution: '0000000700025BE00000', fault: ' HTTP 503 ', olderThan: '2h', newerThan: '7d', contract: 'C', operation: 'op', ids: ['4', '5'], limit: '10' })).toEqual({
      ids: [4, 5], institutionOin: '0000000700025BE00000', fault: 'HTTP 503', olderThanMs: 7_200_000, newerThanMs: 604_800_000, contract: 'C', operation: 'op', limit: 10,
    });
    expect(parseErrorFilter({ institution: '', fault: '  ' })).toEqual({});
  });

  test('replay and purge need a scope: ids, a filter, or all', () => {
    expect(() => parseErrorFilter({}, { requireScope: true })).toThrow(OperatorInputError);
    expect(() => parseErrorFilter({ limit: '5' }, { requireScope: true })).toThrow('--all');
    expect(parseErrorFilter({}, { requireScope: true, all: true })).toEqual({});
  });

  test('bad values are refused with the reason', () => {
    expect(() => parseErrorFilter({ institution: '123' })).toThrow('an OIN is 20 digits or capitals');
    expect(() => parseErrorFilter({ olderThan: 'soon' })).toThrow('a duration such as 90s');
    expect(() => parseErrorFilter({ ids: ['4x'] })).toThrow('a message id is a number');
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('250')).toBe(250);
  });
});
