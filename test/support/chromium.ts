import fs from 'node:fs';
import { installDebianPackage } from '../../src/infra/services/process-tools.js';

/** Debian's Chromium, driven by playwright-core (which cannot download a browser of its own here). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Installs Debian's chromium package when it is missing, as the services setup does for redis-server. */
export function ensureChromium(log: (message: string) => void): void {
  if (!fs.existsSync(CHROMIUM_PATH)) installDebianPackage('chromium', log);
}
