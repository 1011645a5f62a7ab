import { DISTRUST_AFTER, SenderGate } from '../../src/inbound/sender-gate.js';
import { NS } from '../../src/infra/catalogue.js';
import { BrokerFault } from '../../src/infra/errors.js';
import { qualifiedName } from '../../src/infra/xml/soap-envelope.js';

const KNOWN = '0000000700025BE00000';
const UNKNOWN = '00000003999999990000';
const from = (oin: string) => [
  {
    namespace: NS.wsa,
    localName: 'From',
    text: '',
    children: new Map([
      [qualifiedName(NS.wsa, 'Address'), `http://www.w3.org/2005/08/addressing/anonymous?oin=${oin}`],
    ]),
  },
];
const faultOf = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    if (error instanceof BrokerFault) return error.faultCode;
    throw error;
  }
  return 'none';
};

describe('the sender gate', () => {
  test('an unknown wsa:From OIN is DK0002; no readable OIN is left to the envelope rules', () => {
    const gate = new SenderGate((oin) => oin === KNOWN, 4);
    expect(faultOf(() => gate.admitClaimed(from(UNKNOWN)))).toBe('Client.DK0002');
    expect(gate.admitClaimed(from('not-an-oin'))).toBeUndefined();
    expect(gate.admitClaimed([])).toBeUndefined();
  });

  test('at most maxInFlight requests of one sender; a released slot is free again, once', () => {
    const gate = new SenderGate(() => true, 2);
    const first = gate.admitClaimed(from(KNOWN))!;
    gate.admitClaimed(from(KNOWN));
    expect(faultOf(() => gate.admitClaimed(from(KNOWN)))).toBe('Server.BB0006');
    first.release();
    first.release();
    expect(gate.inFlightOf(KNOWN)).toBe(1);
    gate.admitClaimed(from(KNOWN));
    expect(faultOf(() => gate.admitClaimed(from(KNOWN)))).toBe('Server.BB0006');
  });

  test(`after ${DISTRUST_AFTER} Client faults in a row a sender gets one request at a time, until one is accepted`, () => {
    const gate = new SenderGate(() => true, 8);
    for (let i = 0; i < DISTRUST_AFTER; i++) {
      const slot = gate.admitClaimed(from(KNOWN))!;
      slot.refused();
      slot.release();
    }
    const only = gate.admitClaimed(from(KNOWN))!;
    expect(faultOf(() => gate.admitClaimed(from(KNOWN)))).toBe('Server.BB0006');
    only.accepted();
    only.release();
    const slots = Array.from({ length: 8 }, () => gate.admitClaimed(from(KNOWN)));
    expect(slots).toHaveLength(8);
    expect(faultOf(() => gate.admitClaimed(from(KNOWN)))).toBe('Server.BB0006');
  });
});
