/**
 * The broker's error catalogue. Every way a request can be refused is one code here; the inbound fault
 * mapper (src/inbound/fault-response.ts) is the only place that turns them into SOAP faults, and
 * docs/protocol.md documents each code (a test keeps the two in step).
 */

/** SOAP 1.1 fault class: who has to act. */
export type FaultKind = 'Client' | 'Server' | 'VersionMismatch' | 'MustUnderstand';

export interface FaultDefinition {
  readonly kind: FaultKind;
  /** Short meaning, used as the faultstring's lead. */
  readonly title: string;
}

export const FAULTS = {
  /** Envelope namespace is not SOAP 1.1 (SOAP 1.2 or no envelope at all). */
  DK0001: { kind: 'VersionMismatch', title: 'envelope is not SOAP 1.1' },
  /** The sender may not deliver for this BRIN, instantie or operation. */
  DK0002: { kind: 'Client', title: 'not authorised' },
  /** SOAPAction missing or unknown, or it does not match wsa:Action or the body's element. */
  DK0003: { kind: 'Client', title: 'SOAPAction missing, unknown or not matching' },
  /** The body does not validate against the contract schema. */
  DK0004: { kind: 'Client', title: 'body not valid against the schema' },
  /** wsa:To missing. */
  DK0005: { kind: 'Client', title: 'wsa:To missing' },
  /** wsa:Action missing. */
  DK0006: { kind: 'Client', title: 'wsa:Action missing' },
  /** wsa:MessageID missing. */
  DK0007: { kind: 'Client', title: 'wsa:MessageID missing' },
  /** wsa:RelatesTo missing (responses and acknowledgements only). */
  DK0008: { kind: 'Client', title: 'wsa:RelatesTo missing' },
  /** Not UTF-8: invalid bytes, another declared encoding or charset. */
  DK0009: { kind: 'Client', title: 'message is not UTF-8' },
  /** A header block that is neither WS-Addressing nor WS-Security. */
  DK0010: { kind: 'Client', title: 'header block not allowed' },
  /** A WS-Addressing header has a wrong value or occurs twice. */
  DK0011: { kind: 'Client', title: 'WS-Addressing header has a wrong value' },
  /** wsa:From missing. */
  EK0020: { kind: 'Client', title: 'wsa:From missing' },
  /** wsa:From carries no valid OIN, or not the OIN of the TLS client certificate. */
  EK0021: { kind: 'Client', title: 'wsa:From has no valid OIN' },
  /** wsa:To carries no valid OIN. */
  EK0022: { kind: 'Client', title: 'wsa:To has no valid OIN' },
  /** wsa:MessageID is not a UUID. */
  EK0023: { kind: 'Client', title: 'wsa:MessageID is not a UUID' },
  /** The TLS client certificate's OIN (subject serialNumber) is missing or not a known party's. */
  EK0030: { kind: 'Client', title: 'certificate OIN unknown' },
  /** WS-Security: signature missing where required, or not valid (algorithm, references, token, timestamp, replay). */
  EK0031: { kind: 'Client', title: 'WS-Security signature missing or not valid' },
  /** An element in the body holds no value: empty, or nothing but white space. */
  EK0035: { kind: 'Client', title: 'element has no value' },
  /** An identificatiecodeBedrijfsdocument or wsa:MessageID of a stored message, sent again with another body or operation. */
  EK0036: { kind: 'Client', title: 'identifier already used for another message' },
  /** Processing error; the text says what (e.g. an unexpected internal error). */
  DK0050: { kind: 'Server', title: 'processing error' },
  /** Service unavailable or timed out (e.g. the store is down); nothing was acknowledged. */
  DK0051: { kind: 'Server', title: 'service unavailable' },
  /** (ours) The body is larger than allowed, compressed or decompressed. */
  BB0001: { kind: 'Client', title: 'message too large' },
  /** (ours) A forbidden XML construct: DOCTYPE, entity, processing instruction, too deep, too many attributes or elements, too long a name, too large a soap:Header. */
  BB0002: { kind: 'Client', title: 'forbidden XML construct' },
  /** (ours) The XML is not well-formed (syntax error, several roots, text outside the root). */
  BB0003: { kind: 'Client', title: 'XML not well-formed' },
  /** (ours) Content-Encoding unsupported or the compressed body is corrupt. */
  BB0004: { kind: 'Client', title: 'unsupported or corrupt Content-Encoding' },
  /** (ours) A header block marked mustUnderstand="1" that the broker does not process (SOAP 1.1 MustUnderstand fault). */
  BB0005: { kind: 'MustUnderstand', title: 'header block not understood' },
  /** (ours) The sender already has as many requests in flight as one HTTP process takes from it (MAX_IN_FLIGHT_PER_SENDER), or a large body found no turn; nothing was stored. */
  BB0006: { kind: 'Server', title: 'too many requests in flight' },
} as const satisfies Record<string, FaultDefinition>;

export type FaultCode = keyof typeof FAULTS;

/** A request refused with a catalogued fault. `element` names the offending element where known. */
export class BrokerFault extends Error {
  readonly kind: FaultKind;

  constructor(
    readonly code: FaultCode,
    /** Specific reason, safe to show to the sender (never a stack or internal detail). */
    readonly reason: string,
    readonly element?: string,
    readonly line?: number,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'BrokerFault';
    this.kind = FAULTS[code].kind;
  }

  /** The SOAP 1.1 faultcode local part, e.g. `Client.DK0004`. */
  get faultCode(): string {
    return `${this.kind}.${this.code}`;
  }
}

/** Raised by the store when PostgreSQL cannot be reached or does not commit in time, and the message is known not to be stored. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Raised by the store when a message may have been stored but the broker could not learn whether in
 * time (PostgreSQL stopped or stalled with the statement in hand). Never answered with a fault, which
 * could turn out false: the sender gets no answer and resends, which is idempotent.
 */
export class StoreOutcomeUnknownError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOutcomeUnknownError';
  }
}

/**
 * A value the schema or the rules guarantee is missing: a bug in the broker, never the sender's fault.
 * Processing parks the message in the processing error queue like any other failure.
 */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/**
 * A handler read a pupil its message's needs did not ask for: the batch holds no lock on it and has not
 * loaded it, so any answer could be stale. A programming error; the message fails permanently.
 */
export class PupilNotLoadedError extends Error {
  constructor() {
    super('pupil was not loaded for this batch: its handler must name it in its needs');
    this.name = 'PupilNotLoadedError';
  }
}
