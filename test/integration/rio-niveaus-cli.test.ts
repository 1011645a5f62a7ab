/** `bron-broker rio niveaus FILE`: the RIO stand-in's niveau per opleidingcode, which exam results are checked against. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { DEMO_OPLEIDING_NIVEAUS, seedDemoRio } from '../../src/demo-seed.js';
import { createPool } from '../../src/infra/database.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { migrateDatabase } from '../support/broker.js';
import { createTestDatabase } from '../support/services.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');

describe('bron-broker rio niveaus (CLI)', () => {
  test('sets the niveau of the codes in the file, keeps the others, refuses a bad file as a whole, audits', async () => {
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    await migrateDatabase(env.DATABASE_URL);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-niveaus-'));
    const write = (name: string, content: unknown): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify(content));
      return file;
    };
    const first = write('first.json', [
      { opleidingcode: '0050', niveau: 'HAVO' },
      { opleidingcode: '0060', niveau: 'VWO' },
    ]);
    expect((await run(process.execPath, [CLI, 'rio', 'niveaus', first], { env })).stdout).toBe(
      'loaded the niveau of 2 opleidingcode(s)\n',
    );
    await run(
      process.execPath,
      [CLI, 'rio', 'niveaus', write('second.json', [{ opleidingcode: '0060', niveau: 'HAVO' }])],
      {
        env,
      },
    );
    const bad = write('bad.json', [
      { opleidingcode: '0070', niveau: 'VWO' },
      { opleidingcode: '0080', niveau: 'MAVO' },
    ]);
    await expect(run(process.execPath, [CLI, 'rio', 'niveaus', bad], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('record 2: niveau must be one of'),
    });
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      const rows = (await client.query('SELECT opleidingcode, niveau FROM rio_opleiding_niveaus ORDER BY 1')).rows;
      expect(rows).toEqual([
        { opleidingcode: '0050', niveau: 'HAVO' },
        { opleidingcode: '0060', niveau: 'HAVO' },
      ]);
      const audit = (await client.query("SELECT affected FROM operator_audit WHERE action = 'rio.niveaus' ORDER BY id"))
        .rows;
      expect(audit).toEqual([{ affected: 2 }, { affected: 1 }]);
    } finally {
      await client.end();
    }
  });

  test('the demo seeds the niveau of its opleidingcodes', async () => {
    const url = await createTestDatabase();
    await migrateDatabase(url);
    const pool = createPool(url, 1);
    try {
      await seedDemoRio(pool);
      const rows = (await pool.query('SELECT opleidingcode, niveau FROM rio_opleiding_niveaus ORDER BY 1')).rows;
      expect(rows).toEqual(DEMO_OPLEIDING_NIVEAUS.map((r) => ({ ...r })));
    } finally {
      await pool.end();
    }
  });
});
