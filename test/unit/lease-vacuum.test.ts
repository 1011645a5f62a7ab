/** LeaseVacuum: when a process vacuums delivery_leases, and that it runs one vacuum at a time. */
import { LeaseVacuum } from '../../src/delivery/lease-vacuum.js';
import type { Pool } from '../../src/infra/database.js';
import { createLogger } from '../../src/infra/log.js';

/** A pool that records the statements it is given and answers each when told to. */
function recordingPool() {
  const sent: string[] = [];
  const answers: (() => void)[] = [];
  const pool = {
    query: (text: string) => {
      sent.push(text);
      return new Promise<void>((resolve) => answers.push(resolve));
    },
  } as unknown as Pool;
  const answerAll = (): void => {
    for (const answer of answers.splice(0)) answer();
  };
  return { pool, sent, answerAll };
}

describe('LeaseVacuum', () => {
  test('a vacuum follows a thousand freed leases of one school, or ten thousand spread over many', async () => {
    const { pool, sent, answerAll } = recordingPool();
    const vacuum = new LeaseVacuum(pool, createLogger('warn'));
    for (let school = 0; school < 10; school++) vacuum.freed(`school-${school}`, 999);
    expect(sent).toEqual([]);
    vacuum.freed('school-7');
    expect(sent).toEqual(['VACUUM (SKIP_LOCKED, INDEX_CLEANUP true, TRUNCATE false) delivery_leases']);
    answerAll();
    await vacuum.idle();
    vacuum.freed('school-8'); // its count started over with the vacuum
    expect(sent).toHaveLength(1);
    for (let school = 0; school < 100; school++) vacuum.freed(`school-${school}`, 99);
    expect(sent).toHaveLength(1); // 9,901 in all, 100 of school-8
    vacuum.freed('school-0', 99);
    expect(sent).toHaveLength(2);
    answerAll();
    await vacuum.idle();
  });

  test('one vacuum at a time: leases freed meanwhile count toward the next', async () => {
    const { pool, sent, answerAll } = recordingPool();
    const vacuum = new LeaseVacuum(pool, createLogger('warn'), { institution: 10, all: 100 });
    vacuum.freed('a', 10);
    vacuum.freed('a', 10); // the first is still running
    expect(sent).toHaveLength(1);
    answerAll();
    await vacuum.idle();
    vacuum.freed('a', 1);
    expect(sent).toHaveLength(2);
    answerAll();
    await vacuum.idle();
  });
});
