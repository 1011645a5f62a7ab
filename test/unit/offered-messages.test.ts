/** OfferedMessages: what a claim of offered messages asks for, and what it has to look at to decide. */
import { OfferedMessages, type PickRules } from '../../src/delivery/offered-messages.js';
import type { OutboundForDelivery } from '../../src/store/outbound.repo.js';

const message = (id: number, institutionOin: string): OutboundForDelivery => ({
  id,
  operation: 'terugkoppelenInschrijvingVO',
  wsaMessageId: `m-${id}`,
  bodyXml: '<x/>',
  status: 'pending',
  attempts: 0,
  lastError: null,
  institutionOin,
  endpointUrl: 'http://127.0.0.1:9/',
  paused: false,
  verifyReceiptSignature: false,
  createdAt: new Date(0),
});

const rules = (overrides: Partial<PickRules> = {}): PickRules => ({
  room: 100,
  perInstitution: 4,
  expiredAt: 0,
  claiming: new Set(),
  busy: () => false,
  ...overrides,
});

describe('OfferedMessages', () => {
  test("a pick asks for each institution's oldest, no more than its lease limit, up to the room", () => {
    const offered = new OfferedMessages();
    for (let id = 1; id <= 10; id++) offered.add(message(id, 'A'), 100 + id);
    for (let id = 11; id <= 12; id++) offered.add(message(id, 'B'), 100 + id);
    expect(offered.pick(rules())).toEqual([1, 2, 3, 4, 11, 12]);
    expect(offered.pick(rules({ room: 5 }))).toEqual([1, 2, 3, 4, 11]);
    expect(offered.size).toBe(12); // a pick takes nothing out: the claim's answer does
  });

  test('messages already in a claim and busy institutions are passed over', () => {
    const offered = new OfferedMessages();
    for (let id = 1; id <= 6; id++) offered.add(message(id, 'A'), 100 + id);
    offered.add(message(7, 'B'), 200);
    expect(offered.pick(rules({ claiming: new Set([1, 2]) }))).toEqual([3, 4, 5, 6, 7]);
    expect(offered.pick(rules({ busy: (oin) => oin === 'A' }))).toEqual([7]);
  });

  test('messages whose hand-off is over are dropped for the pollers, unless a claim holds them', () => {
    const offered = new OfferedMessages();
    for (let id = 1; id <= 4; id++) offered.add(message(id, 'A'), 100 + id);
    offered.add(message(5, 'B'), 101);
    // Offered at 101 and 102 have waited out the hand-off; 101 of A is in a claim.
    expect(offered.pick(rules({ expiredAt: 102, claiming: new Set([1]), busy: () => true }))).toEqual([]);
    expect([1, 2, 3, 4, 5].map((id) => offered.get(id)?.queuedAt)).toEqual([101, undefined, 103, 104, undefined]);
    expect(offered.size).toBe(3);
  });

  test('a burst of 200,000 for one school costs a pick what it takes, not what waits', () => {
    const offered = new OfferedMessages();
    for (let id = 1; id <= 200_000; id++) offered.add(message(id, 'A'), 100 + id);
    offered.add(message(200_001, 'B'), 100);
    const claiming = new Set([1, 2, 3, 4]);
    expect(offered.pick(rules({ claiming }))).toEqual([5, 6, 7, 8, 200_001]);
    // A pick that walked every waiting message would take ~0.5 ms here: a thousand of them, seconds.
    const started = performance.now();
    for (let i = 0; i < 1000; i++) offered.pick(rules({ claiming, busy: (oin) => oin === 'A' }));
    expect(performance.now() - started).toBeLessThan(250);
  });

  test('institutions take turns when the room is short', () => {
    const offered = new OfferedMessages();
    for (let id = 1; id <= 8; id++) offered.add(message(id, 'A'), 100 + id);
    for (let id = 11; id <= 18; id++) offered.add(message(id, 'B'), 100 + id);
    expect(offered.pick(rules({ room: 4 }))).toEqual([1, 2, 3, 4]);
    // A was served: B goes first now, although A still waits.
    expect(offered.pick(rules({ room: 4, claiming: new Set([1, 2, 3, 4]) }))).toEqual([11, 12, 13, 14]);
  });

  test('deleting the last message of an institution forgets the institution', () => {
    const offered = new OfferedMessages();
    offered.add(message(1, 'A'), 100);
    offered.delete(1);
    offered.delete(1); // twice: a claim's answer and a poll may both take it out
    expect(offered.size).toBe(0);
    expect(offered.get(1)).toBeUndefined();
    expect(offered.pick(rules())).toEqual([]);
  });
});
