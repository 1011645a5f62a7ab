import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder with package.json), found from this file's place in src/ or dist/src/. */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('project root with package.json not found');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot();
export const XSD_DIR = path.join(PROJECT_ROOT, 'xsd');
export const WSDL_DIR = path.join(PROJECT_ROOT, 'wsdl');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src', 'infra', 'migrations');
export const DASHBOARD_DIR = path.join(PROJECT_ROOT, 'src', 'operator', 'http', 'dashboard');
