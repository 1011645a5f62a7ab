import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  test('defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', brokerOin: '00000001800866472000', maxBodyBytes: 1024 * 1024, databaseUrl: undefined, redisUrl: undefined, logLevel: 'info' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('every bad variable is listed in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', BROKER_OIN: '123', DATABASE_URL: 'mysql://x', REDIS_URL: 'not a url', LOG_LEVEL: 'loud', SEED_DEMO: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'BROKER_OIN', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'SEED_DEMO']) expect(problems).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  test('external services and a BRIN-derived broker OIN are accepted', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/bron', REDIS_URL: 'redis://redis:6379', BROKER_OIN: '0000000700025BE00000' });
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/bron');
    expect(config.brokerOin).toBe('0000000700025BE00000');
  });

  test('admin tokens and the trace key: long enough, no white space, the two tokens different', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_READ_TOKEN: 'short', ADMIN_OPERATOR_TOKEN: 'has white space in it', TRACE_KEY: 'x'.repeat(31) });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems).toEqual([
      'ADMIN_READ_TOKEN must be at least 16 characters without white space',
      'ADMIN_OPERATOR_TOKEN must be at least 16 characters without white space',
      'TRACE_KEY must be at least 32 characters without white space',
    ]);
    expect(() => loadConfig({ ADMIN_READ_TOKEN: 'same-token-1234567', ADMIN_OPERATOR_TOKEN: 'same-token-1234567' })).toThrow('must differ');
    expect(loadConfig({})).toMatchObject({ adminReadToken: undefined, adminOperatorToken: undefined, traceKey: undefined });
  });

  test('BRP_SOURCE_OIN: a fixed demo test OIN by default, an OIN other than the broker\'s when set', () => {
    expect(loadConfig({}).brpSourceOin).toBe('00000099000000000100');
    expect(loadConfig({ BRP_SOURCE_OIN: '00000001234567890000' }).brpSourceOin).toBe('00000001234567890000');
    expect(() => loadConfig({ BRP_SOURCE_OIN: 'brp' })).toThrow('BRP_SOURCE_OIN must be 20 digits or capitals');
    expect(() => loadConfig({ BRP_SOURCE_OIN: '00000001800866472000' })).toThrow('BRP_SOURCE_OIN must differ from BROKER_OIN');
  });

  test.each([
    ['unset: weekly, Saturday 03:00 Amsterdam time', {}, { cron: '0 3 * * 6', timezone: 'Europe/Amsterdam' }],
    ['another cron expression and time zone', { QUALITY_SCHEDULE: '30 22 * * 0', QUALITY_TIMEZONE: 'UTC' }, { cron: '30 22 * * 0', timezone: 'UTC' }],
    ['off: only on an operator\'s request', { QUALITY_SCHEDULE: 'off' }, null],
  ])('QUALITY_SCHEDULE %s', (_name, env, expected) => {
    expect(loadConfig(env).qualitySchedule).toEqual(expected);
  });

  test.each([
    ['not a cron expression', { QUALITY_SCHEDULE: 'weekly' }],
    ['a minute out of range', { QUALITY_SCHEDULE: '61 3 * * 6' }],
    ['an unknown time zone', { QUALITY_TIMEZONE: 'Mars/Olympus' }],
  ])('QUALITY_SCHEDULE refused: %s', (_name, env) => {
    expect(() => loadConfig(env)).toThrow(/QUALITY_SCHEDULE must be a cron expression/);
  });
});
