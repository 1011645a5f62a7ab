import { type BrokerFault, FAULTS } from './errors.js';
import { SchemaFault } from './xml/body-validator.js';

/**
 * What a log line or a stored error may say about a fault: the catalogue's title and, for a schema
 * failure, its kind (`pattern`, `length`…). Never the fault's reason, which may quote values from the
 * message (a personal number among them); the element it names goes in a field of its own.
 */
export function faultSummary(fault: BrokerFault): string {
  const title = FAULTS[fault.code].title;
  return fault instanceof SchemaFault ? `${title}: ${fault.violation}` : title;
}
