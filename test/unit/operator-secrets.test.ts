import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/infra/config.js';
import { resolveOperatorSecrets, secretsFile } from '../../src/infra/secrets.js';

describe('operator secrets', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-secrets-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('unset: generated once into the data folder (mode 0600) and the same on every later start', () => {
    const config = loadConfig({ BROKER_DATA_DIR: dir });
    const first = resolveOperatorSecrets(config);
    expect(first.generatedFile).toBe(secretsFile(config));
    expect((fs.statSync(first.generatedFile!).mode & 0o777).toString(8)).toBe('600');
    expect(first.adminReadToken).not.toBe(first.adminOperatorToken);
    expect(first.adminOperatorToken.length).toBeGreaterThanOrEqual(16);
    expect(first.traceKey.length).toBeGreaterThanOrEqual(32);
    expect(resolveOperatorSecrets(loadConfig({ BROKER_DATA_DIR: dir }))).toEqual(first);
  });

  test('values from the environment win; with all three set no file is written', () => {
    const env = {
      BROKER_DATA_DIR: dir,
      ADMIN_READ_TOKEN: 'r'.repeat(16),
      ADMIN_OPERATOR_TOKEN: 'o'.repeat(16),
      TRACE_KEY: 't'.repeat(32),
    };
    expect(resolveOperatorSecrets(loadConfig(env))).toEqual({
      adminReadToken: 'r'.repeat(16),
      adminOperatorToken: 'o'.repeat(16),
      traceKey: 't'.repeat(32),
      generatedFile: undefined,
    });
    expect(fs.readdirSync(dir)).toEqual([]);
    const mixed = resolveOperatorSecrets(loadConfig({ BROKER_DATA_DIR: dir, ADMIN_OPERATOR_TOKEN: 'o'.repeat(16) }));
    expect(mixed.adminOperatorToken).toBe('o'.repeat(16));
    expect(mixed.adminReadToken).toBe(
      JSON.parse(fs.readFileSync(secretsFile({ dataDir: dir }), 'utf8')).adminReadToken,
    );
  });
});
