import { BulkLane } from '../../src/inbound/bulk-lane.js';
import { BrokerFault } from '../../src/infra/errors.js';

describe('the lane for large bodies', () => {
  test('one at a time, in the order they came; the next gets its turn when a place is released', async () => {
    const lane = new BulkLane(65_536, 1, 1000);
    const order: string[] = [];
    const first = await lane.enter();
    const second = lane.enter().then((release) => {
      order.push('second');
      return release;
    });
    const third = lane.enter().then((release) => {
      order.push('third');
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual([]);
    first();
    first(); // a second release gives nothing back twice
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    await lane.enter(); // free again
  });

  test('a body that finds no place within the wait gets Server.BB0006, and leaves the queue', async () => {
    const lane = new BulkLane(65_536, 1, 50);
    const held = await lane.enter();
    const refused = await lane.enter().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BrokerFault);
    expect((refused as BrokerFault).faultCode).toBe('Server.BB0006');
    held();
    const next = await lane.enter();
    next();
  });
});
