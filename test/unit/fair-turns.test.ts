/** FairTurns: rounds of one piece per waiting sender, in one turn of the event loop unless it grows long. */
import { FairTurns } from '../../src/inbound/fair-turns.js';

/** Resolves in the check phase after the immediates scheduled before it. */
const afterQueuedImmediates = () => new Promise((resolve) => setImmediate(resolve));

const busyFor = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('FairTurns', () => {
  test('a piece asked for when nothing waits runs at once', async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const done = turns.run('a', () => ran.push('a1'));
    expect(ran).toEqual(['a1']);
    await done;
  });

  test('pieces of several senders that waited together run in one turn, so they reach the store together', async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const all = [turns.run('a', () => ran.push('a1'))];
    for (const sender of ['b', 'c', 'd', 'e']) all.push(turns.run(sender, () => ran.push(`${sender}1`)));
    expect(ran).toEqual(['a1']);
    await afterQueuedImmediates();
    expect(ran).toEqual(['a1', 'b1', 'c1', 'd1', 'e1']);
    await Promise.all(all);
  });

  test("a lone sender's pieces that waited together run in one turn too, so they share a commit", async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const all = [1, 2, 3, 4, 5].map((n) => turns.run('a', () => ran.push(`a${n}`)));
    expect(ran).toEqual(['a1']);
    await afterQueuedImmediates();
    expect(ran).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    await Promise.all(all);
  });

  test('the 5 ms bound holds for the whole turn, not each round: a lone sender of 3 ms pieces gets two a turn', async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const all = [1, 2, 3, 4, 5].map((n) =>
      turns.run('a', () => {
        busyFor(3);
        ran.push(`a${n}`);
      }),
    );
    await afterQueuedImmediates();
    // a2 always runs; after a3 the turn has run 6 ms, so a4 waits (a slow machine may stop after a2 already).
    expect(ran.length).toBeGreaterThanOrEqual(2);
    expect(ran.length).toBeLessThanOrEqual(3);
    await Promise.all(all);
    expect(ran).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  test("a flooding sender has one piece a round: another sender's piece waits for one of the flood's at most", async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const all = [turns.run('flood', () => ran.push('f1'))];
    for (let n = 2; n <= 6; n++) all.push(turns.run('flood', () => ran.push(`f${n}`)));
    all.push(turns.run('other', () => ran.push('o1')));
    await Promise.all(all);
    expect(ran).toEqual(['f1', 'f2', 'o1', 'f3', 'f4', 'f5', 'f6']);
  });

  test('a round that grows long leaves the senders not reached yet for the next turn, first in it', async () => {
    const turns = new FairTurns();
    const ran: string[] = [];
    const all: Promise<unknown>[] = [turns.run('a', () => ran.push('a1'))];
    all.push(turns.run('a', () => ran.push('a2')));
    for (const sender of ['b', 'c'])
      all.push(
        turns.run(sender, () => {
          busyFor(6);
          ran.push(`${sender}1`);
        }),
      );
    await afterQueuedImmediates();
    expect(ran).toEqual(['a1', 'a2', 'b1']); // b's piece took longer than a round may
    await afterQueuedImmediates();
    expect(ran).toEqual(['a1', 'a2', 'b1', 'c1']);
    await Promise.all(all);
  });

  test("a piece's error goes to its caller only", async () => {
    const turns = new FairTurns();
    const first = turns.run('a', () => 1);
    const failing = turns.run('b', () => {
      throw new Error('bad body');
    });
    const after = turns.run('c', () => 3);
    await expect(failing).rejects.toThrow('bad body');
    expect(await first).toBe(1);
    expect(await after).toBe(3);
  });
});
