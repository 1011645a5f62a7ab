/** The SOAP stacks LAS vendors build clients with (PHP SoapClient, Python zeep), driven from tests as child processes. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { installDebianPackage, onPath } from '../../src/infra/services/process-tools.js';

/** Debian's python3, where python3-zeep installs (a python3 earlier on PATH, pyenv's say, lacks it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const PHP_LAS_CLIENT = path.join(PROJECT_ROOT, 'test', 'support', 'php-las-client.php');
export const ZEEP_DESCRIBE = path.join(PROJECT_ROOT, 'test', 'support', 'zeep-describe.py');

const succeeds = (command: string, args: string[]): boolean =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** Installs Debian's php-cli, php-soap and python3-zeep where missing, as the services setup does for redis-server. */
export function ensureLasClients(log: (message: string) => void): void {
  if (!onPath('php')) installDebianPackage('php-cli', log);
  if (!succeeds('php', ['-r', 'exit(class_exists("SoapClient") ? 0 : 1);'])) installDebianPackage('php-soap', log);
  if (!succeeds(DEBIAN_PYTHON, ['-c', 'import zeep'])) installDebianPackage('python3-zeep', log);
}

/** Runs a command without blocking the event loop (the broker under test shares it), feeding stdin; resolves with its parsed JSON output. */
export function runForJson<T>(command: string, args: string[], stdin = ''): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`${path.basename(command)} exited ${code}: ${(stderr || stdout).slice(-2000)}`));
      }
    });
    child.stdin.end(stdin);
  });
}

const bodyReader = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
});

function withBooleans(value: unknown): unknown {
  // xs:boolean: SoapClient writes a PHP string by its truthiness, so "false" would go out as true.
  if (value === 'true' || value === 'false') return value === 'true';
  if (Array.isArray(value)) return value.map(withBooleans);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, withBooleans(child)]));
  return value;
}

/** A body element as the nested value SoapClient takes (repeated elements as lists); SoapClient puts each element in its namespace from the WSDL. */
export function soapClientValue(bodyXml: string): unknown {
  const parsed = bodyReader.parse(bodyXml) as Record<string, unknown>;
  const root = Object.keys(parsed).find((key) => key !== '?xml')!;
  return withBooleans(parsed[root]);
}
