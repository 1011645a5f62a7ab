/** Names of the WS-Security X.509 token profile 1.0 the broker writes and reads. */
export const WSS = {
  base64Binary: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
  x509v3: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;
