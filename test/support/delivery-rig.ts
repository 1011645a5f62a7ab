/**
 * The delivery side of the pipeline for one test file, against a test broker: institutions' endpoints
 * played by the test and a Deliverer (the one delivery path) polling the broker's database.
 */

import type { Broker } from '../../src/broker.js';
import { Deliverer, type DelivererOptions } from '../../src/delivery/deliverer.js';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import type { Pool } from '../../src/infra/database.js';
import { type Logger, silentLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import type { TrustAnchors } from '../../src/infra/xml/wss-certificates.js';
import type { EnvelopeSigner } from '../../src/infra/xml/wss-signer.js';
import { startTestEndpoints, type TestEndpoints } from './institution-endpoint.js';

export const TEST_BROKER_OIN = '00000001800866472000';

export interface DeliveryRig {
  readonly endpoints: TestEndpoints;
  readonly deliverer: Deliverer;
  /** Another delivery process on the same database (its own owner and pool). */
  startDeliverer(overrides?: DelivererOverrides): Deliverer;
  /** Closes the deliverers and the endpoints. */
  close(): Promise<void>;
}

/** A deliverer's own options; `poll: false` leaves it without a poller, so only its own offers take its room. */
export type DelivererOverrides = Partial<DelivererOptions> & { owner?: string; pool?: Pool; poll?: boolean };

export interface DeliveryRigOptions {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly perInstitution: number;
  /** How long an offered message may wait in memory for a lease (default 1000, as in the broker). */
  readonly handoffMs?: number;
  readonly pollMs?: number;
  readonly leaseMs?: number;
  readonly onDelivered?: (seconds: number) => void;
  readonly log?: Logger;
  /** Signs the deliverers' envelopes (WS-Security). */
  readonly signer?: EnvelopeSigner;
  /** Verifies institutions' receipt signatures (for those with verifyReceiptSignature). */
  readonly receiptTrust?: TrustAnchors;
  /** Signs the receipts the test's institution endpoints answer with. */
  readonly receiptSigner?: EnvelopeSigner;
}

/** Starts the rig; attempts time out after `timeoutMs`, retries wait 50 ms each. */
export async function startDeliveryRig(broker: Broker, options: DeliveryRigOptions): Promise<DeliveryRig> {
  const endpoints = await startTestEndpoints(options.receiptSigner ? { receiptSigner: options.receiptSigner } : {});
  await seedDemoPopulation(broker.pool);
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const deliverers: Deliverer[] = [];
  const startDeliverer = ({ poll = true, ...overrides }: DelivererOverrides = {}): Deliverer => {
    const deliverer = new Deliverer({
      pool: overrides.pool ?? broker.pool,
      brokerOin: TEST_BROKER_OIN,
      validator,
      timeoutMs: options.timeoutMs,
      policy: { retries: options.retries, backoffMs: [50, 50, 50] },
      lease: {
        owner: overrides.owner ?? `rig-${deliverers.length}`,
        perInstitution: options.perInstitution,
        leaseMs: options.leaseMs ?? options.timeoutMs + 2000,
        handoffMs: options.handoffMs ?? 1000,
      },
      maxActive: 16,
      pollMs: options.pollMs ?? 50,
      log: options.log ?? silentLogger(),
      ...(options.onDelivered ? { onDelivered: options.onDelivered } : {}),
      ...(options.signer ? { signer: options.signer } : {}),
      ...(options.receiptTrust ? { receiptTrust: options.receiptTrust } : {}),
      ...overrides,
    });
    if (poll) deliverer.start();
    deliverers.push(deliverer);
    return deliverer;
  };
  const deliverer = startDeliverer();
  return {
    endpoints,
    deliverer,
    startDeliverer,
    async close() {
      await Promise.all(deliverers.map((d) => d.close()));
      validator.dispose();
      await endpoints.close();
    },
  };
}
