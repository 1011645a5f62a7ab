import fs from 'node:fs';
import path from 'node:path';
import { FAULTS, type FaultCode } from '../../src/infra/errors.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';

const protocol = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'protocol.md'), 'utf8');

describe('error catalogue', () => {
  test.each(Object.keys(FAULTS) as FaultCode[])('%s is documented in docs/protocol.md with its fault kind', (code) => {
    expect(protocol).toContain(`\`${FAULTS[code].kind}.${code}\``);
  });
});
