/** A schema failure's kind, for log lines: named from libxml2's message without any value from it. */
import { violationOf } from '../../src/infra/xml/body-validator.js';

test.each([
  ["[facet 'pattern'] The value '123456782x' is not accepted by the pattern '[0-9]{9}'.", 'pattern'],
  [
    "[facet 'length'] The value '123.456.782' has a length of '11'; this differs from the allowed length of '9'.",
    'length',
  ],
  ["[facet 'enumeration'] The value '123456782' is not an element of the set {'J', 'N'}.", 'enumeration'],
  ["'123456782x' is not a valid value of the atomic type 'xs:date'.", 'type'],
  ["'123456782x' is not a valid value of the local atomic type.", 'type'],
  ['This element is not expected. Expected is ( {urn:x}brin ).', 'unexpected element'],
  ['Missing child element(s). Expected is ( {urn:x}brin ).', 'missing element'],
  ["Duplicate key-sequence ['123456782'] in unique identity-constraint 'pupil'.", 'duplicate key'],
  ['something libxml2 says that no one foresaw: 123456782', 'invalid'],
])('%s → %s', (message, kind) => {
  expect(violationOf(message)).toBe(kind);
});
