/**
 * After an operator loaded the MBO and HO stand-in (docs/prior-education.md): fresh prior education to
 * the running subscriptions on the loaded pupils, in the load's own transaction, so a load that commits
 * has pushed once and one that fails has pushed nothing.
 */
import { randomUUID } from 'node:crypto';
import { insertOutbound, type Tx } from '../store/register.repo.js';
import { notifySubscribers } from './handlers/prior-education.js';
import { RegisterSession } from './register-session.js';

/**
 * Takes the pupils' register locks as processing does (a stand being processed is waited for), then pushes
 * as after any relevant change: once per administration, BRIN and pupil, only when the picture differs
 * from the one last sent (reloading the same file sends nothing), none while the register holds no
 * enrolment of the pupil. Returns the queued messages' ids.
 */
export async function pushAfterEducationLoad(
  tx: Tx,
  deps: { readonly brokerOin: string; readonly now: Date },
  pgns: readonly string[],
): Promise<number[]> {
  if (pgns.length === 0) return [];
  const register = await RegisterSession.open(tx, [{ pgns }]);
  const drafts = await notifySubscribers(
    { register, brokerOin: deps.brokerOin, now: deps.now, newId: randomUUID, message: null },
    pgns,
  );
  return (await insertOutbound(tx, drafts)).map((row) => row.id);
}
