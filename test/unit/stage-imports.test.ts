import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from '../../src/infra/paths.js';

/** The flow, in order: a stage may use an earlier stage, never a later one. */
const STAGES = ['inbound', 'accept', 'processing', 'delivery', 'operator'] as const;
/** Everything a stage may use: shared infrastructure, the repositories, and the register's pure rules. */
const FOUNDATIONS = ['infra', 'store', 'register'] as const;

const SRC = path.join(PROJECT_ROOT, 'src');

interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import in src/, as project paths (`src/inbound/soap-endpoint.ts`), type-only ones marked. */
function importEdges(files: readonly string[]): ImportEdge[] {
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm;
  return files.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return [...text.matchAll(pattern)].map((m) => ({
      from: path.relative(PROJECT_ROOT, file),
      to: path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), (m[3] ?? m[4])!).replace(/\.js$/, '.ts')),
      typeOnly: m[2] !== undefined,
    }));
  });
}

/** The top folder of src/ a file lives in; undefined for the composition roots at src/ itself. */
function area(file: string): string | undefined {
  const parts = file.split(path.sep);
  return parts.length > 2 ? parts[1] : undefined;
}

/** Why an import breaks the layering, or undefined when it is allowed. */
function violation(edge: ImportEdge): string | undefined {
  const from = area(edge.from);
  const to = area(edge.to);
  if (from === undefined || from === to) return undefined;
  if (to === undefined)
    return edge.typeOnly && edge.to === path.join('src', 'config.ts') ? undefined : 'imports a composition root';
  if (from === 'register') return 'the register is pure: it imports only itself';
  if (from === 'infra') return 'shared infrastructure imports no stage, no repository and no rule';
  if (from === 'store')
    return to === 'infra' || to === 'register'
      ? undefined
      : 'a repository imports only shared infrastructure and register types';
  const fromStage = STAGES.indexOf(from as (typeof STAGES)[number]);
  if (fromStage < 0) return `src/${from}/ is neither a stage nor a foundation`;
  if (to === 'register')
    return edge.typeOnly || fromStage >= STAGES.indexOf('processing')
      ? undefined
      : 'only processing and later apply rules';
  if ((FOUNDATIONS as readonly string[]).includes(to)) return undefined;
  const toStage = STAGES.indexOf(to as (typeof STAGES)[number]);
  if (toStage < 0) return `src/${to}/ is neither a stage nor a foundation`;
  return toStage > fromStage ? `${from} comes before ${to} in the flow` : undefined;
}

describe('the tree follows the flow', () => {
  const files = sourceFiles(SRC);

  it('has only stages and foundations under src/', () => {
    const folders = fs
      .readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.sort()).toEqual([...STAGES, ...FOUNDATIONS].sort());
  });

  it('no stage imports a later stage, and the foundations import no stage', () => {
    const broken = importEdges(files).flatMap((edge) => {
      const why = violation(edge);
      return why === undefined ? [] : [`${edge.from} → ${edge.to}: ${why}`];
    });
    expect(broken).toEqual([]);
  });

  it('catches an early stage importing a later one, and a rule reaching for the database', () => {
    const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly });
    expect(violation(edge('src/inbound/soap-endpoint.ts', 'src/accept/accept-batcher.ts'))).toMatch(/before accept/);
    expect(violation(edge('src/processing/sweeper.ts', 'src/delivery/deliverer.ts'))).toMatch(/before delivery/);
    expect(violation(edge('src/register/funding.ts', 'src/infra/database.ts'))).toMatch(/pure/);
    expect(violation(edge('src/store/persons.repo.ts', 'src/processing/parse-message.ts'))).toMatch(/repository/);
    expect(violation(edge('src/accept/accept-batcher.ts', 'src/register/enrolment.ts'))).toMatch(/rules/);
    expect(violation(edge('src/accept/accept-batcher.ts', 'src/register/enrolment.ts', true))).toBeUndefined();
    expect(violation(edge('src/delivery/deliverer.ts', 'src/processing/outbound-messages.ts'))).toBeUndefined();
    expect(violation(edge('src/operator/stats.ts', 'src/store/outbound.repo.ts'))).toBeUndefined();
  });
});
