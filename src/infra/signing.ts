import type { SigningSettings } from './config.js';
import { readSettingFile } from './startup-failure.js';
import { EnvelopeSigner, loadSigningMaterial } from './xml/wss-signer.js';

/**
 * The signer of receipts and pushes, or undefined when signing is off. Reads and checks the key and
 * certificate now (RSA, belonging together), so a wrong file stops the start with one line.
 */
export function loadEnvelopeSigner(settings: SigningSettings | null): EnvelopeSigner | undefined {
  if (!settings) return undefined;
  const material = loadSigningMaterial(
    readSettingFile(settings.keyFile, 'SIGNING_KEY_FILE'),
    readSettingFile(settings.certFile, 'SIGNING_CERT_FILE'),
    'SIGNING_KEY_FILE and SIGNING_CERT_FILE (default TLS_KEY_FILE and TLS_CERT_FILE)',
  );
  return new EnvelopeSigner(material);
}
