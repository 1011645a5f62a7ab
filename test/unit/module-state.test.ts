import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../../src/infra/paths.js';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Top-level `let`/`var` bindings: state a module keeps between calls, which a caller cannot see or reset. */
const moduleLevelBindings = (text: string): string[] =>
  [...text.matchAll(/^(?:export\s+)?(?:let|var)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!);

describe('modules keep no mutable state', () => {
  it('finds a top-level let, and ignores one inside a function', () => {
    expect(moduleLevelBindings('let processKey: string | undefined;\nexport let count = 0;')).toEqual([
      'processKey',
      'count',
    ]);
    expect(moduleLevelBindings('function f() {\n  let local = 1;\n}')).toEqual([]);
  });

  it('no module under src/ has a top-level let or var', () => {
    const found = sourceFiles(path.join(PROJECT_ROOT, 'src')).flatMap((file) =>
      moduleLevelBindings(fs.readFileSync(file, 'utf8')).map((name) => `${path.relative(PROJECT_ROOT, file)}: ${name}`),
    );
    expect(found).toEqual([]);
  });
});
