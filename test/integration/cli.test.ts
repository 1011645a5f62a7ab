import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestDatabase } from '../support/services.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');

describe('bron-broker institution (CLI, real PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = { ...process.env, DATABASE_URL: await createTestDatabase() };
  });

  test('add then list shows the institution with its BRINs and endpoint', async () => {
    await run(process.execPath, [CLI, 'institution', 'add', '--oin', '00000003123456780000', '--name', 'Vendor X', '--brin', '25BE', '--brin', '25BF', '--endpoint', 'http://localhost:9000/las'], { env });
    const { stdout } = await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env });
    expect(JSON.parse(stdout)).toEqual([
      { oin: '00000003123456780000', name: 'Vendor X', brins: ['25BE', '25BF'], endpointUrl: 'http://localhost:9000/las', enabled: true },
    ]);
    const table = (await run(process.execPath, [CLI, 'institution', 'list'], { env })).stdout;
    expect(table).toMatch(/00000003123456780000\s+25BE,25BF\s+yes/);
  });

  test('a malformed OIN is refused with a clear message and exit code 1', async () => {
    await expect(run(process.execPath, [CLI, 'institution', 'add', '--oin', '123', '--name', 'x', '--brin', '25BE'], { env }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('an OIN is 20 digits or capitals') });
  });
});
