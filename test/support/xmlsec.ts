/**
 * Checks a WS-Security signature with tools outside the broker: xmlsec1 (Debian's `xmlsec1`, installed
 * when missing) for the signature, and `openssl verify` for the token's chain to the test CA.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installDebianPackage, onPath } from '../../src/infra/services/process-tools.js';

/** Installs xmlsec1 once when it is missing (root with apt-get), else throws saying how. */
export function ensureXmlsec1(): void {
  if (!onPath('xmlsec1')) installDebianPackage('xmlsec1', (line) => process.stderr.write(`${line}\n`));
}

/** The envelope's BinarySecurityToken as a certificate. */
export function tokenCertificate(xml: string): X509Certificate {
  const base64 = /<wsse:BinarySecurityToken[^>]*>([^<]+)<\/wsse:BinarySecurityToken>/.exec(xml)?.[1];
  if (!base64) throw new Error('no BinarySecurityToken');
  return new X509Certificate(Buffer.from(base64, 'base64'));
}

/** Elements that carry a wsu:Id in the broker's envelopes: xmlsec1 is told each name (it knows no WS-Security). */
const ID_ELEMENTS = ['Body', 'Timestamp', 'To', 'Action', 'MessageID', 'RelatesTo', 'From', 'BinarySecurityToken'];

/**
 * Runs `xmlsec1 --verify` with the token's key, and `openssl verify` of the token against `caFile`.
 * Returns xmlsec1's exit status and its report (both 0 / "OK" when the signature holds).
 */
export function verifyWithXmlsec1(xml: string, caFile: string): { status: number; report: string; chain: boolean } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-xmlsec-'));
  try {
    const envelopeFile = path.join(dir, 'envelope.xml');
    const tokenFile = path.join(dir, 'token.pem');
    fs.writeFileSync(envelopeFile, xml);
    fs.writeFileSync(tokenFile, tokenCertificate(xml).toString());
    const result = spawnSync(
      'xmlsec1',
      [
        '--verify',
        '--pubkey-cert-pem',
        tokenFile,
        ...ID_ELEMENTS.flatMap((name) => ['--id-attr:Id', name]),
        envelopeFile,
      ],
      { encoding: 'utf8' },
    );
    let chain = true;
    try {
      execFileSync('openssl', ['verify', '-CAfile', caFile, tokenFile], { stdio: 'ignore' });
    } catch {
      chain = false;
    }
    return { status: result.status ?? -1, report: `${result.stdout}${result.stderr}`, chain };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
