/**
 * The register session answers only about pupils the batch locked and loaded: a read of any other pupil
 * is a typed programming error, not an answer from a register another batch may be changing.
 */

import { inTransaction } from '../../src/infra/database.js';
import { PupilNotLoadedError } from '../../src/infra/errors.js';
import { RegisterSession } from '../../src/processing/register-session.js';
import { useTestBroker } from '../support/broker.js';

describe('the register session and its needs', () => {
  const broker = useTestBroker();

  test('reading a pupil the needs did not name throws PupilNotLoadedError', async () => {
    await inTransaction(broker().pool, async (tx) => {
      const session = await RegisterSession.open(tx, [{ pgns: ['123456782'] }]);
      expect(session.enrolmentsOf('123456782')).toEqual([]);
      expect(session.subscriptionsOf('123456782')).toEqual([]);
      for (const read of [
        () => session.enrolmentsOf('111222333'),
        () => session.subscriptionsOf('111222333'),
        () => session.linkedBsn('100000004'),
        () => session.examResultsOf('111222333'),
        () => session.diplomasOf('111222333'),
      ])
        expect(read).toThrow(PupilNotLoadedError);
    });
  });
});
