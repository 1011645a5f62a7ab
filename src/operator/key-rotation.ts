import { dataKeysOf, inTransaction, type Pool } from '../infra/database.js';
import { insertAuditRow } from '../store/audit.repo.js';
import { countInboundByDataKey, resealInboundBatch } from '../store/inbound-messages.repo.js';
import { countOutboundByDataKey, resealOutboundBatch } from '../store/outbound.repo.js';
import { OperatorInputError } from './input.js';
import type { Actor } from './operator-actions.js';

/** Stored messages and outbound bodies per data key id (`plain`: not sealed). */
export interface DataKeyUse {
  readonly inbound: Record<string, number>;
  readonly outbound: Record<string, number>;
}

export async function dataKeyUse(pool: Pool): Promise<DataKeyUse> {
  return { inbound: await countInboundByDataKey(pool), outbound: await countOutboundByDataKey(pool) };
}

/**
 * Re-seals every stored message and outbound body not under the current data key (plain text or an
 * older key), in batches of `batchSize`, each its own transaction: the broker keeps running, and an
 * interrupted run is finished by running it again. Recorded in the audit log (`keys.rotate`) with the
 * key and the count. Afterwards an older key can be removed from DATA_KEYS.
 */
export async function rotateDataKeys(
  pool: Pool,
  actor: Actor,
  options: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<{ keyId: string; inbound: number; outbound: number }> {
  const current = dataKeysOf(pool).current;
  if (!current) throw new OperatorInputError('DATA_KEYS is not set: there is no key to re-encrypt under');
  const batchSize = options.batchSize ?? 500;
  const reseal = async (batch: typeof resealInboundBatch): Promise<number> => {
    let total = 0;
    for (let afterId: number | null = 0; afterId !== null; ) {
      const from: number = afterId;
      const { resealed, lastId } = await inTransaction(pool, (tx) => batch(tx, from, batchSize));
      total += resealed;
      afterId = lastId;
      options.onProgress?.(total);
    }
    return total;
  };
  const inbound = await reseal(resealInboundBatch);
  const outbound = await reseal(resealOutboundBatch);
  await insertAuditRow(pool, {
    actor,
    action: 'keys.rotate',
    target: { keyId: current.id, inbound, outbound },
    affected: inbound + outbound,
    dryRun: false,
    outboundIds: [],
  });
  return { keyId: current.id, inbound, outbound };
}
