import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * With HTTP_PROCESSES > 1 (or ROLE=all's pipeline process) each process counts its own requests, deliveries and attempts, and a scrape
 * lands on whichever process the kernel picks. So a worker asked for /metrics asks the primary,
 * which gathers every worker's registries (prom-client's AggregatorRegistry) and answers with the sum.
 */

const REQUEST = 'bron:metrics-request';
const RESPONSE = 'bron:metrics-response';

interface MetricsMessage {
  readonly type: string;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** Primary: answers the workers' scrape requests with the whole cluster's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (error: Error) => worker.send({ type: RESPONSE, id: message.id, error: error.message }),
    );
  });
}

/** Worker: the whole cluster's metrics, in the Prometheus text format. */
export type ClusterScrape = (timeoutMs?: number) => Promise<string>;

/**
 * Worker: lets the primary collect these registries, and returns how to ask the primary for the whole
 * cluster's metrics; undefined outside a cluster worker. Call once per process (composition roots do).
 */
export function joinClusterMetrics(registries: readonly Registry[]): ClusterScrape | undefined {
  if (!cluster.isWorker) return undefined;
  AggregatorRegistry.setRegistries([...registries]);
  new AggregatorRegistry(); // installs prom-client's worker-side listener
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: MetricsMessage) => {
    if (message?.type !== RESPONSE) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? '');
  });
  return (timeoutMs = 6000) => {
    const id = nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer with cluster metrics'));
      }, timeoutMs);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send!({ type: REQUEST, id });
    });
  };
}
