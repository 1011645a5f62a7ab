/**
 * bench:stages — the pipeline's two stages measured alone, as CPU per message: processing (claim, rules,
 * register write, outbound queued; PROCESSING_TRANSACTIONS batches of PROCESSING_BATCH_SIZE at a time)
 * and first delivery attempts (envelope, HTTP POST, receipt read and validated, attempt recorded; 64 at
 * once) to an endpoint in a child process. bench:pipeline runs six busy processes on two cores, where
 * every step costs several times what it costs alone; this one shows what each stage itself costs, so a
 * change to one stage can be judged without the others' noise.
 *
 * Environment: BENCH_MESSAGES (10,000 enrolments). Starts its own PostgreSQL in a temporary folder and
 * counts that server's CPU only. CPU figures cover every thread of a process (garbage collection, libuv),
 * as bench:pipeline's do.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Deliverer } from '../src/delivery/deliverer.js';
import { OUTBOUND_CONTRACT } from '../src/infra/catalogue.js';
import { loadConfig } from '../src/infra/config.js';
import { createPool } from '../src/infra/database.js';
import { createLogger } from '../src/infra/log.js';
import { migrate } from '../src/infra/migrate.js';
import { startEmbeddedPostgres } from '../src/infra/services/embedded-postgres.js';
import { freePort } from '../src/infra/services/process-tools.js';
import { compileSchemas } from '../src/infra/xml/schema-set.js';
import { createPipelinePool } from '../src/pipeline.js';
import { createHandlers } from '../src/processing/handlers/index.js';
import { processBatch } from '../src/processing/process-message.js';
import { isValidBsn } from '../src/register/pgn.js';
import { type AcceptedMessage, storeAcceptedBatch } from '../src/store/inbound-messages.repo.js';
import { upsertInstitution } from '../src/store/institutions.repo.js';
import type { OutboundForDelivery } from '../src/store/outbound.repo.js';
import { acceptedMessage, bodyFixture } from '../test/support/soap.js';
import { cpuOfTree } from './process-cpu.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const SENDER_OIN = '0000000700025BE00000'; // 25BE, the enrolment fixture's sender
const BROKER_OIN = '00000001800866472000';

/** Stored enrolments of distinct pupils known to the population register, as the accept path stores them. */
const acceptedEnrolments = (bsns: readonly string[], firstIndex: number): AcceptedMessage[] =>
  bsns.map((bsn, index) =>
    acceptedMessage(
      'aanleverenInschrijvingVO',
      bodyFixture('valid/aanleverenInschrijvingVO.xml')
        .replace(/2026-0001/g, `S-${firstIndex + index}`)
        .replace(/123456782/g, bsn),
    ),
  );

const count = (counts: Map<string, number>, key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);

/** CPU of this process, of PostgreSQL's server (`postgresPid`) and of the endpoint while `run` runs, in µs per item. */
async function measured(
  items: number,
  postgresPid: number,
  endpointPid: number,
  run: () => Promise<void>,
): Promise<{ node: number; postgres: number; endpoint: number; wall: number }> {
  const before = {
    node: process.cpuUsage(),
    postgres: cpuOfTree(postgresPid),
    endpoint: cpuOfTree(endpointPid),
    at: performance.now(),
  };
  await run();
  const node = process.cpuUsage(before.node);
  return {
    node: (node.user + node.system) / items,
    postgres: ((cpuOfTree(postgresPid) - before.postgres) * 1e6) / items,
    endpoint: ((cpuOfTree(endpointPid) - before.endpoint) * 1e6) / items,
    wall: ((performance.now() - before.at) * 1000) / items,
  };
}

/** Runs each step, even when an earlier one fails (cleanup). */
async function each(steps: readonly (() => unknown)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-stages-'));
  fs.chmodSync(dir, 0o755); // the postgres system user must reach its data folder
  const dataDir = path.join(dir, 'pg');
  const database = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    database: 'stages',
    log: () => undefined,
  });
  const postgresPid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const setup = createPool(database.url, 2);
  const pool = createPipelinePool(database.url, config);
  let endpoint: ChildProcess | undefined;
  try {
    const endpointPort = await freePort();
    endpoint = fork(path.join(path.dirname(new URL(import.meta.url).pathname), 'receipt-endpoint.js'), [
      String(endpointPort),
    ]);
    const started = endpoint;
    await new Promise((resolve, reject) => {
      started.once('message', resolve);
      started.once('exit', (code) => reject(new Error(`the receipt endpoint exited with ${code}`)));
    });
    await migrate(setup);
    await upsertInstitution(setup, {
      oin: SENDER_OIN,
      name: '25BE',
      brins: ['25BE'],
      endpointUrl: `http://127.0.0.1:${endpointPort}/institutions/25BE`,
      enabled: true,
    });
    const bsns: string[] = [];
    for (let n = 300_000_000; bsns.length < MESSAGES; n++) if (isValidBsn(String(n))) bsns.push(String(n));
    await setup.query(
      "INSERT INTO population_register (bsn, birth_date, gender, surname) SELECT b, '2013-04-17', '2', 'Leerling' FROM unnest($1::text[]) AS b",
      [bsns],
    );
    // Stored 100 at a time, so the messages' text is not kept in memory while the stages are measured.
    const ids: number[] = [];
    for (let i = 0; i < bsns.length; i += 100) {
      for (const stored of await storeAcceptedBatch(setup, acceptedEnrolments(bsns.slice(i, i + 100), i), null)) {
        if (stored instanceof Error) throw stored;
        ids.push(stored.messageId);
      }
    }

    // Processing: the worker's transactions, each a batch as large as the worker makes under load.
    const handlers = createHandlers();
    const outbound: OutboundForDelivery[] = [];
    const outcomes = new Map<string, number>();
    let next = 0;
    const processing = await measured(ids.length, postgresPid, endpoint.pid!, async () => {
      await Promise.all(
        Array.from({ length: config.processingTransactions }, async () => {
          while (next < ids.length) {
            const start = next;
            next += config.processingBatchSize;
            const batch = ids.slice(start, next);
            for (const result of await processBatch(pool, handlers, batch, {
              brokerOin: BROKER_OIN,
              traceKey: 'bench-stages-key',
            })) {
              count(outcomes, result.outcome ?? 'none');
              outbound.push(...result.outbound);
            }
          }
        }),
      );
    });

    // First delivery attempts through the one delivery path (lease, attempt, record), 64 at once, to the endpoint in the child process.
    const results = new Map<string, number>();
    let settled = 0;
    const deliverer = new Deliverer({
      pool,
      brokerOin: BROKER_OIN,
      validator,
      timeoutMs: 10_000,
      policy: { retries: 3, backoffMs: [60_000] },
      lease: { owner: 'bench-stages', perInstitution: 64, leaseMs: 60_000, handoffMs: 600_000 },
      maxActive: 64,
      pollMs: 600_000,
      log: createLogger('warn'),
      onDelivered: () => {
        count(results, 'delivered');
        settled += 1;
      },
    });
    const delivery = await measured(outbound.length, postgresPid, endpoint.pid!, async () => {
      deliverer.offer(outbound);
      const deadline = Date.now() + 300_000;
      while (settled < outbound.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    });
    await deliverer.close();

    const round = (value: number): string => Math.round(value).toLocaleString('en-US');
    process.stdout.write(
      `processing: ${MESSAGES} enrolments (${[...outcomes].map(([k2, v]) => `${v} ${k2}`).join(', ')}), batches of ${config.processingBatchSize}, ${config.processingTransactions} at a time\n`,
    );
    process.stdout.write(
      `  per message: broker ${round(processing.node)} µs CPU, PostgreSQL ${round(processing.postgres)} µs, wall ${round(processing.wall)} µs\n`,
    );
    process.stdout.write(
      `delivery: ${outbound.length} first attempts (${[...results].map(([k2, v]) => `${v} ${k2}`).join(', ')}), 64 at once\n`,
    );
    process.stdout.write(
      `  per attempt: broker ${round(delivery.node)} µs CPU, PostgreSQL ${round(delivery.postgres)} µs, endpoint ${round(delivery.endpoint)} µs, wall ${round(delivery.wall)} µs\n`,
    );
    // Each enrolment approved causes a terugkoppeling and a bekostigingsstatus; each must be delivered.
    if (
      outcomes.get('approved') !== MESSAGES ||
      outbound.length !== 2 * MESSAGES ||
      results.get('delivered') !== outbound.length
    ) {
      process.stderr.write(
        'not every enrolment was approved, or not every outbound message delivered: the figures above do not count\n',
      );
      process.exitCode = 1;
    }
  } finally {
    await each([
      () => endpoint?.kill(),
      () => validator.dispose(),
      () => pool.end(),
      () => setup.end(),
      () => database.stop(),
      () => fs.rmSync(dir, { recursive: true, force: true }),
    ]);
  }
}

await main();
