import { ConfigError, loadConfig } from '../../src/infra/config.js';

/** A well-formed data key (production requires one). */
const KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

describe('configuration', () => {
  test('defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      brokerOin: '00000001800866472000',
      maxBodyBytes: 1024 * 1024,
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('every bad variable is listed in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        BROKER_OIN: '123',
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'not a url',
        LOG_LEVEL: 'loud',
        SEED_DEMO: 'maybe',
        BROKER_PROFILE: 'development',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'BROKER_OIN', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'SEED_DEMO'])
      expect(problems).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  test('external services and a BRIN-derived broker OIN are accepted', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/bron',
      DATA_KEYS: KEY,
      REDIS_URL: 'redis://redis:6379',
      BROKER_OIN: '0000000700025BE00000',
    });
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/bron');
    expect(config.brokerOin).toBe('0000000700025BE00000');
  });

  test('admin tokens and the trace key: long enough, no white space, the two tokens different', () => {
    let error: unknown;
    try {
      loadConfig({
        ADMIN_READ_TOKEN: 'short',
        ADMIN_OPERATOR_TOKEN: 'has white space in it',
        TRACE_KEY: 'x'.repeat(31),
      });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems).toEqual([
      'ADMIN_READ_TOKEN must be at least 16 characters without white space',
      'ADMIN_OPERATOR_TOKEN must be at least 16 characters without white space',
      'TRACE_KEY must be at least 32 characters without white space',
    ]);
    expect(() =>
      loadConfig({ ADMIN_READ_TOKEN: 'same-token-1234567', ADMIN_OPERATOR_TOKEN: 'same-token-1234567' }),
    ).toThrow('must differ');
    expect(loadConfig({})).toMatchObject({
      adminReadToken: undefined,
      adminOperatorToken: undefined,
      traceKey: undefined,
    });
  });

  test("BRP_SOURCE_OIN: a fixed demo test OIN by default, an OIN other than the broker's when set", () => {
    expect(loadConfig({}).brpSourceOin).toBe('00000099000000000100');
    expect(loadConfig({ BRP_SOURCE_OIN: '00000001234567890000' }).brpSourceOin).toBe('00000001234567890000');
    expect(() => loadConfig({ BRP_SOURCE_OIN: 'brp' })).toThrow('BRP_SOURCE_OIN must be 20 digits or capitals');
    expect(() => loadConfig({ BRP_SOURCE_OIN: '00000001800866472000' })).toThrow(
      'BRP_SOURCE_OIN must differ from BROKER_OIN',
    );
  });

  test.each([
    ['unset: weekly, Saturday 03:00 Amsterdam time', {}, { cron: '0 3 * * 6', timezone: 'Europe/Amsterdam' }],
    [
      'another cron expression and time zone',
      { QUALITY_SCHEDULE: '30 22 * * 0', QUALITY_TIMEZONE: 'UTC' },
      { cron: '30 22 * * 0', timezone: 'UTC' },
    ],
    ["off: only on an operator's request", { QUALITY_SCHEDULE: 'off' }, null],
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

describe('ROLE and HTTP_PROCESSES', () => {
  test.each([
    [{}, 'all'],
    [{ ROLE: '' }, 'all'],
    [{ ROLE: 'all' }, 'all'],
    [{ ROLE: 'http' }, 'http'],
    [{ ROLE: 'pipeline' }, 'pipeline'],
  ])('%j runs role %s', (env, role) => {
    expect(loadConfig(env).role).toBe(role);
  });

  test.each(['workers', 'HTTP', ' http', 'all,http'])('ROLE=%j is refused with one line', (value) => {
    expect(() => loadConfig({ ROLE: value })).toThrow(ConfigError);
    try {
      loadConfig({ ROLE: value });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        `ROLE must be all, http, pipeline or unset (all), got '${value}'`,
      ]);
    }
  });

  test.each([
    [{}, 1],
    [{ HTTP_PROCESSES: '4' }, 4],
    [{ HTTP_WORKERS: '3' }, 3],
    [{ HTTP_WORKERS: '3', HTTP_PROCESSES: '2' }, 2],
    [{ HTTP_PROCESSES: '64' }, 64],
  ])('%j: %i HTTP processes', (env, count) => {
    expect(loadConfig(env).httpProcesses).toBe(count);
  });

  test.each([
    [{ HTTP_PROCESSES: '0' }, "HTTP_PROCESSES must be a whole number from 1 to 64, got '0'"],
    [{ HTTP_PROCESSES: '65' }, "HTTP_PROCESSES must be a whole number from 1 to 64, got '65'"],
    [{ HTTP_WORKERS: 'two' }, "HTTP_WORKERS must be a whole number from 1 to 64, got 'two'"],
  ])('%j is refused', (env, problem) => {
    expect(() => loadConfig(env)).toThrow(problem);
  });
});

describe('replaced settings: one warning line each, naming what replaced it', () => {
  test('none without old names', () => {
    expect(loadConfig({ ROLE: 'http', HTTP_PROCESSES: '2' }).deprecations).toEqual([]);
  });

  test.each([
    ['HTTP_WORKERS', '2', 'HTTP_WORKERS is read as HTTP_PROCESSES, its new name: rename it'],
    [
      'RUN_WORKERS',
      'false',
      'RUN_WORKERS is no longer read: set ROLE=http for a process without processing and delivery',
    ],
    [
      'PIPELINE_PROCESS',
      'true',
      'PIPELINE_PROCESS is no longer read: ROLE=all always runs the pipeline in a process of its own',
    ],
  ])('%s', (name, value, line) => {
    expect(loadConfig({ [name]: value }).deprecations).toEqual([line]);
  });

  test('old values of RUN_WORKERS are not validated any more: it is not read', () => {
    expect(loadConfig({ RUN_WORKERS: 'maybe', PIPELINE_PROCESS: 'x' }).role).toBe('all');
  });
});

describe('derived limits', () => {
  test('defaults', () => {
    expect(loadConfig({}).limits).toEqual({
      httpPoolSize: 6,
      acceptPoolSize: 2,
      pipelinePoolSize: 10,
      deliveryLeaseMs: 15_000,
      deliveryHandoffMs: 1000,
      pingTimeoutMs: 5000,
    });
    expect(Object.isFrozen(loadConfig({}).limits)).toBe(true);
  });

  test.each([
    [{ ACCEPT_MAX_IN_FLIGHT: '4' }, { acceptPoolSize: 4 }],
    [{ PROCESSING_TRANSACTIONS: '1' }, { pipelinePoolSize: 8 }],
    [{ PROCESSING_TRANSACTIONS: '32' }, { pipelinePoolSize: 70 }],
    [{ DELIVERY_TIMEOUT_MS: '50' }, { deliveryLeaseMs: 5050, pingTimeoutMs: 50 }],
    [{ DELIVERY_TIMEOUT_MS: '4999' }, { deliveryLeaseMs: 9999, pingTimeoutMs: 4999 }],
    [{ DELIVERY_TIMEOUT_MS: '5001' }, { deliveryLeaseMs: 10_001, pingTimeoutMs: 5000 }],
  ])('%j gives %j', (env, limits) => {
    expect(loadConfig(env).limits).toMatchObject(limits);
  });
});

describe('every numeric setting: default, both bounds, and one past each', () => {
  const NUMERIC: [name: string, key: string, fallback: number, min: number, max: number][] = [
    ['PORT', 'port', 8080, 0, 65535],
    ['EMBEDDED_PG_PORT', 'embeddedPgPort', 54329, 1, 65535],
    ['EMBEDDED_REDIS_PORT', 'embeddedRedisPort', 63790, 1, 65535],
    ['MAX_BODY_BYTES', 'maxBodyBytes', 1024 * 1024, 1024, 64 * 1024 * 1024],
    ['MAX_HEADER_BYTES', 'maxHeaderBytes', 16 * 1024, 1024, 1024 * 1024],
    ['MAX_HEADER_ELEMENTS', 'maxHeaderElements', 100, 10, 10_000],
    ['MAX_ELEMENTS', 'maxElements', 20_000, 100, 1_000_000],
    ['MAX_IN_FLIGHT_PER_SENDER', 'maxInFlightPerSender', 32, 1, 10_000],
    ['MAX_CONNECTIONS', 'maxConnections', 1024, 1, 100_000],
    ['MAX_CONNECTIONS_PER_IP', 'maxConnectionsPerIp', 64, 0, 100_000],
    ['MAX_NEW_CONNECTIONS_PER_IP', 'maxNewConnectionsPerIp', 0, 0, 100_000],
    ['ACCEPT_TIMEOUT_MS', 'acceptTimeoutMs', 1500, 100, 60_000],
    ['ACCEPT_OUTCOME_WAIT_MS', 'acceptOutcomeWaitMs', 10_000, 100, 600_000],
    ['ACCEPT_BATCH_SIZE', 'acceptBatchSize', 100, 1, 1000],
    ['ACCEPT_MAX_IN_FLIGHT', 'acceptMaxInFlight', 2, 1, 32],
    ['SWEEP_INTERVAL_MS', 'sweepIntervalMs', 5000, 50, 3_600_000],
    ['SWEEP_GRACE_MS', 'sweepGraceMs', 5000, 0, 3_600_000],
    ['HTTP_PROCESSES', 'httpProcesses', 1, 1, 64],
    ['PROCESSING_CONCURRENCY', 'processingConcurrency', 64, 1, 1024],
    ['PROCESSING_BATCH_SIZE', 'processingBatchSize', 64, 1, 1000],
    ['PROCESSING_TRANSACTIONS', 'processingTransactions', 2, 1, 32],
    ['DELIVERY_TIMEOUT_MS', 'deliveryTimeoutMs', 10_000, 50, 600_000],
    ['DELIVERY_RETRIES', 'deliveryRetries', 3, 0, 20],
    ['DELIVERY_POLL_MS', 'deliveryPollMs', 500, 10, 60_000],
    ['DELIVERY_CONCURRENCY', 'deliveryConcurrency', 256, 1, 1024],
    ['DELIVERY_PER_INSTITUTION', 'deliveryPerInstitution', 4, 1, 256],
    ['JOB_LOCK_MS', 'jobLockMs', 30_000, 500, 600_000],
  ];
  const read = (env: Record<string, string>, key: string): unknown =>
    (loadConfig(env) as unknown as Record<string, unknown>)[key];

  test.each(NUMERIC)('%s', (name, key, fallback, min, max) => {
    expect(read({}, key)).toBe(fallback);
    expect(read({ [name]: '' }, key)).toBe(fallback);
    expect(read({ [name]: String(min) }, key)).toBe(min);
    expect(read({ [name]: String(max) }, key)).toBe(max);
    for (const bad of [String(min - 1), String(max + 1), '1.5', 'ten']) {
      expect(() => loadConfig({ [name]: bad })).toThrow(
        `${name} must be a whole number from ${min} to ${max}, got '${bad}'`,
      );
    }
  });

  test('DELIVERY_BACKOFF_MS: comma-separated milliseconds, each up to a day', () => {
    expect(loadConfig({}).deliveryBackoffMs).toEqual([30_000, 120_000, 600_000]);
    expect(loadConfig({ DELIVERY_BACKOFF_MS: '100, 200' }).deliveryBackoffMs).toEqual([100, 200]);
    expect(loadConfig({ DELIVERY_BACKOFF_MS: '0' }).deliveryBackoffMs).toEqual([0]);
    for (const bad of ['-1', '86400001', '100,,200', 'soon']) {
      expect(() => loadConfig({ DELIVERY_BACKOFF_MS: bad })).toThrow(
        `DELIVERY_BACKOFF_MS must be comma-separated whole numbers of milliseconds, got '${bad}'`,
      );
    }
  });

  test.each([
    ['QUEUE_PREFIX', 'bron', 'bron-2.test_x', 'bron:x'],
    ['LOG_LEVEL', 'info', 'debug', 'loud'],
  ])('%s: default %s, accepts %s, refuses %s', (name, fallback, good, bad) => {
    const key = name === 'QUEUE_PREFIX' ? 'queuePrefix' : 'logLevel';
    expect(read({}, key)).toBe(fallback);
    expect(read({ [name]: good }, key)).toBe(good);
    expect(() => loadConfig({ [name]: bad })).toThrow(name);
  });

  test.each([
    ['1', true],
    ['yes', true],
    ['true', true],
    ['0', false],
    ['no', false],
    ['false', false],
  ])('SEED_DEMO=%s is %s', (raw, value) => {
    expect(loadConfig({ SEED_DEMO: raw }).seedDemo).toBe(value);
  });

  describe('TLS and PUBLIC_URL', () => {
    const problemsOf = (env: Record<string, string>): readonly string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };

    test('unset: plain HTTP (development), the WSDL address from the listen address', () => {
      expect(loadConfig({})).toMatchObject({ tls: null, publicUrl: undefined });
      expect(loadConfig({ TLS: 'off', TLS_CERT_FILE: '/nowhere' }).tls).toBeNull();
    });

    test('a certificate file turns TLS on, and then key and CA bundle are required and must be readable', () => {
      expect(problemsOf({ TLS_CERT_FILE: '/nowhere/cert.pem' })).toEqual([
        'TLS_CERT_FILE names /nowhere/cert.pem, which cannot be read',
        'TLS_KEY_FILE must name a PEM file when TLS is on',
        'TLS_CA_FILE must name a PEM file when TLS is on',
      ]);
    });

    test('TLS must be on or off; PUBLIC_URL an http(s) URL, kept without a trailing slash', () => {
      expect(problemsOf({ TLS: 'maybe', PUBLIC_URL: 'ftp://x' })).toEqual([
        "TLS must be on or off, got 'maybe'",
        'PUBLIC_URL must use http: or https:',
      ]);
      expect(loadConfig({ PUBLIC_URL: 'https://bron.example.nl/' }).publicUrl).toBe('https://bron.example.nl');
    });

    test('WSS_REQUIRED: false by default, a boolean, and true only with TLS (its CA bundle checks signing certificates)', () => {
      const file = new URL(import.meta.url).pathname;
      const tlsOn = { TLS: 'on', TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file };
      expect(loadConfig({}).wssRequired).toBe(false);
      expect(loadConfig({ ...tlsOn, WSS_REQUIRED: 'true' }).wssRequired).toBe(true);
      expect(problemsOf({ WSS_REQUIRED: 'true' })).toEqual([
        'WSS_REQUIRED=true needs TLS=on (signing certificates must chain to TLS_CA_FILE)',
      ]);
      expect(problemsOf({ WSS_REQUIRED: 'sometimes' })).toEqual([
        "WSS_REQUIRED must be true or false, got 'sometimes'",
      ]);
    });

    test('readable files: on, with the delivery CA bundle defaulting to TLS_CA_FILE', () => {
      const file = new URL(import.meta.url).pathname;
      const tls = loadConfig({ TLS: 'on', TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file }).tls;
      expect(tls).toEqual({ certFile: file, keyFile: file, caFile: file, crlFile: undefined, deliveryCaFile: file });
    });
  });

  describe('SIGNING', () => {
    const file = new URL(import.meta.url).pathname;
    const problemsOf = (env: Record<string, string>): readonly string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };

    test('off in plain-HTTP development; on with TLS, signing with the TLS files', () => {
      expect(loadConfig({}).signing).toBeNull();
      const tls = { TLS: 'on', TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file };
      expect(loadConfig(tls).signing).toEqual({ keyFile: file, certFile: file });
      expect(loadConfig({ ...tls, SIGNING: 'off' }).signing).toBeNull();
    });

    test('SIGNING_KEY_FILE turns it on without TLS, and then needs SIGNING_CERT_FILE; both must be readable', () => {
      expect(loadConfig({ SIGNING_KEY_FILE: file, SIGNING_CERT_FILE: file }).signing).toEqual({
        keyFile: file,
        certFile: file,
      });
      expect(problemsOf({ SIGNING_KEY_FILE: file })).toEqual([
        'SIGNING_CERT_FILE must name a PEM file when SIGNING is on (or set TLS_* with TLS on)',
      ]);
      expect(problemsOf({ SIGNING: 'on' })).toEqual([
        'SIGNING_KEY_FILE must name a PEM file when SIGNING is on (or set TLS_* with TLS on)',
        'SIGNING_CERT_FILE must name a PEM file when SIGNING is on (or set TLS_* with TLS on)',
      ]);
      expect(problemsOf({ SIGNING_KEY_FILE: '/nowhere/key.pem', SIGNING_CERT_FILE: file })).toEqual([
        'SIGNING_KEY_FILE names /nowhere/key.pem, which cannot be read',
      ]);
      expect(problemsOf({ SIGNING: 'maybe' })).toEqual(["SIGNING must be on or off, got 'maybe'"]);
    });
  });

  test('the profile is development on embedded PostgreSQL (no DATABASE_URL), production with a named database, or as BROKER_PROFILE says', () => {
    expect(loadConfig({}).profile).toBe('development');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/bron', DATA_KEYS: KEY }).profile).toBe('production');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/bron', BROKER_PROFILE: 'development' }).profile).toBe(
      'development',
    );
    expect(loadConfig({ BROKER_PROFILE: 'production', DATA_KEYS: KEY }).profile).toBe('production');
    expect(() => loadConfig({ BROKER_PROFILE: 'staging' })).toThrow(
      "BROKER_PROFILE must be development or production, got 'staging'",
    );
  });

  test('production: no demo, https only, no loopback or private endpoints; development: the demo, http and loopback', () => {
    const endpointSettings = (env: Record<string, string>) => {
      const { seedDemo, allowHttpEndpoints, allowLoopbackEndpoints, allowPrivateEndpoints } = loadConfig(env);
      return { seedDemo, allowHttpEndpoints, allowLoopbackEndpoints, allowPrivateEndpoints };
    };
    expect(endpointSettings({ DATABASE_URL: 'postgres://db/bron', DATA_KEYS: KEY })).toEqual({
      seedDemo: false,
      allowHttpEndpoints: false,
      allowLoopbackEndpoints: false,
      allowPrivateEndpoints: false,
    });
    expect(endpointSettings({})).toEqual({
      seedDemo: true,
      allowHttpEndpoints: true,
      allowLoopbackEndpoints: true,
      allowPrivateEndpoints: false,
    });
    expect(endpointSettings({ BROKER_PROFILE: 'production', SEED_DEMO: 'true', DATA_KEYS: KEY }).seedDemo).toBe(true);
    expect(endpointSettings({ SEED_DEMO: 'false', ALLOW_HTTP_ENDPOINTS: 'false' })).toMatchObject({
      seedDemo: false,
      allowHttpEndpoints: false,
    });
  });

  test('DEMO_BASE_URL: where the delivering process reaches the demo receiver, default this broker on localhost', () => {
    expect(loadConfig({ PORT: '9090' }).demoBaseUrl).toBe('http://localhost:9090');
    expect(loadConfig({ DEMO_BASE_URL: 'http://http:8080/' }).demoBaseUrl).toBe('http://http:8080');
    expect(() => loadConfig({ DEMO_BASE_URL: 'ftp://x' })).toThrow('DEMO_BASE_URL must use http: or https:');
  });
});

describe('DATA_KEYS', () => {
  const key = (id: string, bytes = 32): string => `${id}:${Buffer.alloc(bytes, id.length).toString('base64')}`;
  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  test('new connections a second per IP address: 20 with TLS in production, else no limit', () => {
    const file = new URL(import.meta.url).pathname;
    const tlsOn = { TLS: 'on', TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file };
    const production = { BROKER_PROFILE: 'production', DATA_KEYS: KEY };
    expect(loadConfig({ ...production, ...tlsOn }).maxNewConnectionsPerIp).toBe(20);
    expect(loadConfig(production).maxNewConnectionsPerIp).toBe(0);
    expect(loadConfig(tlsOn).maxNewConnectionsPerIp).toBe(0);
  });

  test('production requires a key; development without one stores plain text', () => {
    expect(problemsOf({ BROKER_PROFILE: 'production' })).toEqual([
      'DATA_KEYS must be set in the production profile: id:base64key of 32 bytes (docs/security.md)',
    ]);
    expect(loadConfig({}).dataKeys.current).toBeUndefined();
  });

  test('the first key seals, every key is kept for opening', () => {
    const config = loadConfig({ DATA_KEYS: `${key('k2')}, ${key('k1')}` });
    expect(config.dataKeys.current?.id).toBe('k2');
    expect(config.dataKeys.keys.map((k) => k.id)).toEqual(['k2', 'k1']);
  });

  test('32 bytes each, an id each, ids unique; the key itself never in the message', () => {
    const short = key('k1', 16);
    const problems = problemsOf({ DATA_KEYS: `${short},${key('k2')},${key('k2')},nokey` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('key k1 must be 32 bytes in base64, got 16');
    expect(problems[0]).toContain('key ids must be unique: k2');
    expect(problems[0]).toContain("key 4 needs an id of letters, digits, _ . - before ':'");
    expect(problems[0]).not.toContain(short.slice(3));
  });
});

describe('ADMIN_PORT', () => {
  test('unset: no admin listener; set: its port on ADMIN_HOST, 127.0.0.1 by default; never PORT itself', () => {
    expect(loadConfig({}).admin).toBeNull();
    expect(loadConfig({ ADMIN_PORT: '9091' }).admin).toEqual({ port: 9091, host: '127.0.0.1' });
    expect(loadConfig({ ADMIN_PORT: '9091', ADMIN_HOST: '10.0.0.5' }).admin).toEqual({ port: 9091, host: '10.0.0.5' });
    expect(() => loadConfig({ ADMIN_PORT: '8080' })).toThrow('ADMIN_PORT must differ from PORT');
    expect(() => loadConfig({ ADMIN_PORT: 'x' })).toThrow('ADMIN_PORT must be a whole number from 0 to 65535');
  });
});
