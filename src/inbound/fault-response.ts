import { BrokerFault, StoreOutcomeUnknownError, StoreUnavailableError } from '../infra/errors.js';
import { escapeXml } from '../infra/xml/escape.js';

/** Namespace of the fault detail element (ours). */
export const FAULT_DETAIL_NS = 'urn:bron-broker:fault';
/** wsa:Action of a fault response (WS-Addressing 1.0 SOAP binding). */
export const FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';

/**
 * Maps anything thrown on the request path to a BrokerFault, or to null: no answer at all. This is the
 * one place that decides what a sender is told: catalogued faults pass through, a store known not to
 * have stored the message becomes Server.DK0051, a store that may have stored it (outcome unknown)
 * gets no answer, since a fault could turn out false, and everything else a bare Server.DK0050 —
 * never a stack trace or internal message.
 */
export function toBrokerFault(error: unknown): BrokerFault | null {
  if (error instanceof BrokerFault) return error;
  if (error instanceof StoreOutcomeUnknownError) return null;
  if (error instanceof StoreUnavailableError) {
    return new BrokerFault(
      'DK0051',
      'the message store is unavailable; the message was not accepted, send it again later',
    );
  }
  return new BrokerFault('DK0050', 'internal error; the message was not accepted, send it again later');
}

/** The soap:Fault body element: faultcode `soapenv:<Kind>.<code>`, faultstring, and a detail naming the element. */
export function faultBody(fault: BrokerFault): string {
  const detail = [
    `<bb:code>${fault.code}</bb:code>`,
    fault.element ? `<bb:element>${escapeXml(fault.element)}</bb:element>` : '',
    fault.line ? `<bb:line>${fault.line}</bb:line>` : '',
  ].join('');
  return (
    `<soapenv:Fault><faultcode>soapenv:${fault.faultCode}</faultcode>` +
    `<faultstring xml:lang="en">${escapeXml(`${fault.code}: ${fault.reason}`)}</faultstring>` +
    `<detail><bb:fault xmlns:bb="${FAULT_DETAIL_NS}">${detail}</bb:fault></detail></soapenv:Fault>`
  );
}
