import type { Operation } from '../infra/catalogue.js';
import { escapeXml } from '../infra/xml/escape.js';

/** The fields of an OntvangstBevestiging: a new bedrijfsdocument with the instanties swapped. */
export interface ReceiptFields {
  readonly receiptId: string;
  readonly receiptAt: Date;
  /** The request's ontvangendeInstantie, now the sender. */
  readonly verzendendeInstantie: string;
  /** The request's verzendendeInstantie, now the receiver. */
  readonly ontvangendeInstantie: string;
}

/** The `<operation>_Response` body element; its children live in the contract's base namespace. */
export function receiptBody(operation: Operation, contractNamespace: string, fields: ReceiptFields): string {
  const el = (name: string, value: string): string => `<b:${name}>${escapeXml(value)}</b:${name}>`;
  return (
    `<c:${operation.responseElement} xmlns:c="${contractNamespace}" xmlns:b="${operation.receiptNamespace}">` +
    el('identificatiecodeBedrijfsdocument', fields.receiptId) +
    el('verzendendeInstantie', fields.verzendendeInstantie) +
    el('ontvangendeInstantie', fields.ontvangendeInstantie) +
    el('datumTijdBedrijfsdocument', fields.receiptAt.toISOString()) +
    el('ontvangstBevestiging', 'J') +
    `</c:${operation.responseElement}>`
  );
}
