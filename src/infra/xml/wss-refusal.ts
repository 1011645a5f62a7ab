/** What kind of rule a WS-Security signature broke: each caller words its refusal from it. */
export type RefusalKind =
  /** No wsse:Security header. */
  | 'no-security'
  /** The Security header, Signature or SignedInfo is not as the profile requires. */
  | 'structure'
  /** A canonicalisation, transform, signature or digest algorithm that is not allowed. */
  | 'algorithm'
  /** An id on two elements (signature wrapping). */
  | 'duplicate-id'
  /** A reference that is not '#id', names no element, or an element that may not be signed. */
  | 'reference'
  /** A part that must be signed is not (the element names it). */
  | 'unsigned'
  /** A digest or the signature value does not verify. */
  | 'mismatch'
  /** KeyInfo does not name the one BinarySecurityToken of the Security header. */
  | 'token-reference'
  /** The token is not a usable X.509v3 certificate, or not the expected signer's. */
  | 'token'
  /** The token's certificate does not chain to a trusted CA, is revoked, a CA, or not valid now. */
  | 'untrusted'
  /** The token's key is not RSA. */
  | 'not-rsa'
  /** wsu:Created lies too far in the future. */
  | 'timestamp-future'
  /** wsu:Created is too old, or wsu:Expires has passed. */
  | 'timestamp-expired'
  /** The Timestamp is malformed. */
  | 'timestamp';

/** Why a signature is not accepted: the kind of rule, a reason, and the element it concerns. */
export class SignatureRefusedError extends Error {
  constructor(
    readonly kind: RefusalKind,
    reason: string,
    readonly element: string,
  ) {
    super(reason);
    this.name = 'SignatureRefusedError';
  }
}
