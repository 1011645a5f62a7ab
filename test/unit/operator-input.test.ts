import {
  API_FIELDS,
  CLI_FIELDS,
  OperatorInputError,
  parseDuration,
  parseErrorFilter,
} from '../../src/operator/input.js';

describe('operator input', () => {
  test('an error filter from CLI options or query parameters', () => {
    expect(
      parseErrorFilter(
        {
          institution: '0000000700025BE00000',
          fault: ' HTTP 503 ',
          olderThan: '2h',
          newerThan: '7d',
          contract: 'C',
          operation: 'op',
          ids: ['4', '5'],
          limit: '10',
        },
        CLI_FIELDS,
      ),
    ).toEqual({
      ids: [4, 5],
      institutionOin: '0000000700025BE00000',
      fault: 'HTTP 503',
      olderThanMs: 7_200_000,
      newerThanMs: 604_800_000,
      contract: 'C',
      operation: 'op',
      limit: 10,
    });
    expect(parseErrorFilter({ institution: '', fault: '  ' }, CLI_FIELDS)).toEqual({});
  });

  test('replay and purge need a scope: ids, a filter, or all', () => {
    expect(() => parseErrorFilter({}, CLI_FIELDS, { requireScope: true })).toThrow(OperatorInputError);
    expect(() => parseErrorFilter({ limit: '5' }, CLI_FIELDS, { requireScope: true })).toThrow('--all');
    expect(parseErrorFilter({}, CLI_FIELDS, { requireScope: true, all: true })).toEqual({});
  });

  test('bad values are refused with the reason and the field as the CLI spells it', () => {
    expect(() => parseErrorFilter({ institution: '123' }, CLI_FIELDS)).toThrow(
      '--institution: an OIN is 20 digits or capitals',
    );
    expect(() => parseErrorFilter({ olderThan: 'soon' }, CLI_FIELDS)).toThrow('--older-than: a duration such as 90s');
    expect(() => parseErrorFilter({ ids: ['4x'] }, CLI_FIELDS)).toThrow('a message id is a number');
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('250')).toBe(250);
  });

  // The admin API's callers send JSON fields and query parameters: its errors must not speak of CLI flags.
  test.each([
    [{ olderThan: 'soon' }, {}, 'olderThan: a duration such as 90s'],
    [{ newerThan: 'x' }, {}, 'newerThan: a duration such as 90s'],
    [{ institution: '123' }, {}, 'institution: an OIN is 20 digits or capitals'],
    [{ limit: 'many' }, {}, 'limit: '],
    [
      {},
      { requireScope: true },
      'name ids or a filter (institution, operation, contract, fault, olderThan, newerThan), or all',
    ],
  ])('API input %j %j: the error names API fields', (input, options, message) => {
    let thrown: Error | undefined;
    try {
      parseErrorFilter(input, API_FIELDS, options);
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown).toBeInstanceOf(OperatorInputError);
    expect(thrown!.message).toContain(message);
    expect(thrown!.message).not.toMatch(/--[a-z]/);
  });
});
