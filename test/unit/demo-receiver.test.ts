/**
 * The demo receiver is unauthenticated: anyone may post to it, so what it logs is escaped (no forged
 * lines) and bounded (no megabyte lines).
 */
import { demoReceiptLine, loggable } from '../../src/delivery/demo-receiver.js';

describe('demo receiver log line', () => {
  test('control characters are escaped, so a value cannot start a new line', () => {
    expect(loggable('ok\r\n{"level":"error","message":"forged"}')).toBe(
      'ok\\u000d\\u000a{"level":"error","message":"forged"}',
    );
    expect(loggable('a\u001b[31mb\u2028c')).toBe('a\\u001b[31mb\\u2028c');
  });

  test('a long value is cut, saying how long it was', () => {
    expect(loggable('x'.repeat(900_000))).toBe(`${'x'.repeat(64)}...(900000 chars)`);
  });

  test('a hostile message logs bounded, escaped fields', () => {
    const xml = `<ns:${'A'.repeat(900_000)}_Request><leveringGoedgekeurd>true\n{"forged":1}</leveringGoedgekeurd>${'<signaalcode>S1\n</signaalcode>'.repeat(50)}</ns:x>`;
    const line = demoReceiptLine(xml, '25BE%0A');
    expect(line.brin).toBe('invalid: 25BE%0A');
    expect(line.operation).toBe(`${'A'.repeat(64)}...(900000 chars)`);
    expect(line.leveringGoedgekeurd).toBe('true\\u000a{"forg...(22 chars)');
    expect(line.signalen).toBe(`${Array(20).fill('S1\\u000a').join(',')},...(50)`);
    expect(JSON.stringify(line).length).toBeLessThan(600);
  });

  test('an ordinary message logs as before', () => {
    const xml =
      '<b:aanleverenInschrijvingVO_Request><b:leveringGoedgekeurd>J</b:leveringGoedgekeurd><b:signaalcode>V001</b:signaalcode><b:signaalcode>V002</b:signaalcode>';
    expect(demoReceiptLine(xml, '25BE')).toEqual({
      brin: '25BE',
      operation: 'aanleverenInschrijvingVO',
      leveringGoedgekeurd: 'J',
      signalen: 'V001,V002',
    });
  });
});
