import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { TlsSettings } from './config.js';
import { readSettingFile, StartupError } from './startup-failure.js';

/** The PEM material of mutual TLS, read once at start-up. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Trusted CAs for senders' client certificates. */
  readonly ca: Buffer;
  readonly crl: Buffer | undefined;
  /** Trusted CAs for schools' server certificates on delivery. */
  readonly deliveryCa: Buffer;
}

/** Has OpenSSL load one part, naming its settings in the one line when it cannot. */
function check(settings: string, options: tls.SecureContextOptions): void {
  try {
    tls.createSecureContext(options);
  } catch (error) {
    throw new StartupError(`${settings}: not usable: ${String((error as Error).message).split('\n')[0]}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A CA bundle OpenSSL would load silently even without one certificate in it (every handshake would then fail). */
function checkBundle(setting: string, pem: Buffer): void {
  const certificates = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new StartupError(`${setting}: holds no PEM certificate`);
  for (const certificate of certificates) {
    try {
      new X509Certificate(certificate);
    } catch (error) {
      throw new StartupError(`${setting}: a certificate in it cannot be read: ${(error as Error).message}`);
    }
  }
}

/**
 * Reads the files and has OpenSSL check them (PEM syntax, key matching the certificate, CRL) now,
 * so a bad file stops the start with one line instead of failing the first handshake.
 */
export function loadTlsMaterial(settings: TlsSettings): TlsMaterial {
  const material: TlsMaterial = {
    cert: readSettingFile(settings.certFile, 'TLS_CERT_FILE'),
    key: readSettingFile(settings.keyFile, 'TLS_KEY_FILE'),
    ca: readSettingFile(settings.caFile, 'TLS_CA_FILE'),
    crl: settings.crlFile ? readSettingFile(settings.crlFile, 'TLS_CRL_FILE') : undefined,
    deliveryCa: readSettingFile(settings.deliveryCaFile, 'DELIVERY_CA_FILE'),
  };
  check('TLS_CERT_FILE and TLS_KEY_FILE', { cert: material.cert, key: material.key });
  checkBundle('TLS_CA_FILE', material.ca);
  check('TLS_CA_FILE', { ca: material.ca });
  if (material.crl) check('TLS_CRL_FILE', { ca: material.ca, crl: material.crl });
  checkBundle('DELIVERY_CA_FILE', material.deliveryCa);
  check('DELIVERY_CA_FILE', { ca: material.deliveryCa });
  return material;
}

/** Options of the broker's listener: a sender without a certificate from a trusted CA is refused in the handshake. */
export function serverTlsOptions(material: TlsMaterial): tls.TlsOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    ...(material.crl ? { crl: material.crl } : {}),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

/** Options of the delivery client: the broker's certificate, and only the configured CAs trusted for schools' servers. */
export function clientTlsOptions(material: TlsMaterial): tls.ConnectionOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.deliveryCa,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}
