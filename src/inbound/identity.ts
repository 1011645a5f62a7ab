import type { Addressing } from './envelope-rules.js';

/**
 * The OIN the request is authenticated as. Until mutual TLS is configured this is the OIN claimed in
 * wsa:From; the TLS client certificate's serialNumber will take its place here, and only here.
 */
export function authenticatedSenderOin(addressing: Addressing): string {
  return addressing.fromOin;
}
