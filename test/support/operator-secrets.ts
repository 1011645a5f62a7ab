/** Fixed admin tokens, trace key and data key for the test run (set for every test file and child process by the global setup). */
export const TEST_SECRETS = {
  ADMIN_READ_TOKEN: 'test-read-token-0123456789abcdef',
  ADMIN_OPERATOR_TOKEN: 'test-operator-token-0123456789abcdef',
  TRACE_KEY: 'test-trace-key-0123456789abcdef0123456789',
  // Every test broker seals what it stores, as production must: 32 bytes, never a real key.
  DATA_KEYS: `test:${Buffer.from('test-data-key-0123456789abcdef01').toString('base64')}`,
} as const;
