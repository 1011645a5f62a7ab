import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { SIGNALS, type SignalCode } from '../../src/register/signals.js';

const catalogue = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'signalen.md'), 'utf8');

describe('signal catalogue', () => {
  test.each(Object.keys(SIGNALS) as SignalCode[])(
    '%s is documented in docs/signalen.md with its ernst and funding effect',
    (code) => {
      expect(catalogue).toContain(
        `| \`${code}\` | ${SIGNALS[code].ernst} | ${SIGNALS[code].bekostiging ? 'ja' : 'nee'} |`,
      );
    },
  );

  test.each(Object.keys(SIGNALS) as SignalCode[])('%s: code format and text length', (code) => {
    expect(code).toMatch(/^[A-Z]\d{4}$/);
    expect(SIGNALS[code].omschrijving.length).toBeLessThanOrEqual(200);
  });
});
