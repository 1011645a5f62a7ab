/**
 * A throw-away PKI for the mutual-TLS tests, made with the openssl CLI in a temporary directory (never
 * committed): a root CA; the broker; schools with their OIN as the subject's serialNumber
 * (PKIoverheid style); an expired, a revoked and an OIN-less certificate; and a second, untrusted CA
 * with a server certificate of its own. CAs have EC keys, leaves RSA keys.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A certificate and its key, as files and as PEM. */
export interface Credentials {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly dir: string;
  /** The trusted root CA (TLS_CA_FILE). */
  readonly caFile: string;
  readonly ca: Buffer;
  /** The root's CRL, revoking `revoked` (TLS_CRL_FILE). */
  readonly crlFile: string;
  /** Leaf certificates (server and client use, SAN localhost and 127.0.0.1) by name. */
  readonly broker: Credentials;
  readonly school25BE: Credentials;
  readonly school00AH: Credentials;
  readonly unknownOin: Credentials;
  readonly expired: Credentials;
  readonly revoked: Credentials;
  readonly noOin: Credentials;
  /** Signed by a CA the broker does not trust. */
  readonly untrusted: Credentials;
  remove(): void;
}

export const UNKNOWN_OIN = '00000003999999990000';

const CONFIG = (dir: string): string => `
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/issued
serial = ${dir}/serial
crlnumber = ${dir}/crlnumber
certificate = ${dir}/ca.pem
private_key = ${dir}/ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = policy_any
unique_subject = no
preserve = yes
email_in_dn = no
[ policy_any ]
countryName = optional
organizationName = optional
serialNumber = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
x509_extensions = ca_ext
[ req_dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
// Leaves are RSA, as PKIoverheid's are: the broker signs with its key as RSA-SHA256 (WS-Security).
const RSA_KEY = ['-newkey', 'rsa:2048', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** One CA in its own directory: its certificate, and a function that issues leaf certificates. */
function createCa(dir: string, name: string) {
  fs.mkdirSync(path.join(dir, 'issued'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
  const config = path.join(dir, 'openssl.cnf');
  fs.writeFileSync(config, CONFIG(dir));
  openssl([
    'req',
    '-x509',
    '-new',
    ...EC_KEY,
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    path.join(dir, 'ca.pem'),
    '-days',
    '30',
    '-subj',
    `/C=NL/O=bron-broker test/CN=${name}`,
    '-config',
    config,
  ]);
  const issue = (file: string, subject: string, dates: string[] = ['-days', '30']): Credentials => {
    const base = path.join(dir, file);
    openssl([
      'req',
      '-new',
      ...RSA_KEY,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      subject,
      '-config',
      config,
    ]);
    openssl([
      'ca',
      '-batch',
      '-config',
      config,
      '-extensions',
      'leaf',
      '-notext',
      '-in',
      `${base}.csr`,
      '-out',
      `${base}.pem`,
      ...dates,
    ]);
    return {
      certFile: `${base}.pem`,
      keyFile: `${base}.key`,
      cert: fs.readFileSync(`${base}.pem`),
      key: fs.readFileSync(`${base}.key`),
    };
  };
  return { config, caFile: path.join(dir, 'ca.pem'), issue };
}

const subject = (name: string, oin?: string): string =>
  `/C=NL/O=${name}${oin ? `/serialNumber=${oin}` : ''}/CN=${name}`;

/** Generates the PKI (about a second); call remove() when done. */
export function generateTestPki(oins: { broker: string; school25BE: string; school00AH: string }): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-test-pki-'));
  const root = createCa(path.join(dir, 'root'), 'bron-broker test root CA');
  const broker = root.issue('broker', subject('broker', oins.broker));
  const school25BE = root.issue('school-25BE', subject('school 25BE', oins.school25BE));
  const school00AH = root.issue('school-00AH', subject('school 00AH', oins.school00AH));
  const unknownOin = root.issue('unknown-oin', subject('unknown vendor', UNKNOWN_OIN));
  const expired = root.issue('expired', subject('expired 25BE', oins.school25BE), [
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20210101000000Z',
  ]);
  const revoked = root.issue('revoked', subject('revoked 25BE', oins.school25BE));
  const noOin = root.issue('no-oin', subject('no OIN'));
  openssl(['ca', '-batch', '-config', root.config, '-revoke', revoked.certFile]);
  const crlFile = path.join(dir, 'root', 'crl.pem');
  openssl(['ca', '-batch', '-config', root.config, '-gencrl', '-out', crlFile]);
  const untrusted = createCa(path.join(dir, 'rogue'), 'untrusted CA').issue(
    'rogue-server',
    subject('rogue school', oins.school25BE),
  );
  return {
    dir,
    caFile: root.caFile,
    ca: fs.readFileSync(root.caFile),
    crlFile,
    broker,
    school25BE,
    school00AH,
    unknownOin,
    expired,
    revoked,
    noOin,
    untrusted,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The broker's settings for mutual TLS with this PKI. */
export function brokerTlsEnv(pki: TestPki, options: { crl?: boolean } = {}): Record<string, string> {
  return {
    TLS: 'on',
    TLS_CERT_FILE: pki.broker.certFile,
    TLS_KEY_FILE: pki.broker.keyFile,
    TLS_CA_FILE: pki.caFile,
    ...(options.crl ? { TLS_CRL_FILE: pki.crlFile } : {}),
  };
}
