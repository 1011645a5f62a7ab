import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../../src/infra/paths.js';

/**
 * Infrastructure that talks to PostgreSQL itself, not to a table of the broker's: transactions, the
 * migrator (schema_migrations is its own; readiness asks it), and creating the embedded database.
 */
const INFRASTRUCTURE = ['src/infra/database.ts', 'src/infra/migrate.ts', 'src/infra/services/embedded-postgres.ts'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('all SQL lives in the repositories', () => {
  it('no module outside src/store/ sends a query, but shared infrastructure', () => {
    const querying = sourceFiles(path.join(PROJECT_ROOT, 'src'))
      .map((file) => path.relative(PROJECT_ROOT, file).split(path.sep).join('/'))
      .filter(
        (file) =>
          !file.startsWith('src/store/') &&
          /\.query(<|\()/.test(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8')),
      );
    expect(querying.filter((file) => !INFRASTRUCTURE.includes(file))).toEqual([]);
  });
});
