/**
 * A fault must never be followed by a commit: with every process of a private PostgreSQL stopped
 * (SIGSTOP) for longer than the accept timeout, statements already sent sit in the server's socket
 * buffer and run when it resumes. Whatever the broker answered then must stay true: no faulted message
 * is stored, every receipted one is, and a message that got no answer is settled by resending it.
 */

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import pg from 'pg';
import type { Broker } from '../../src/broker.js';
import { type RunningService, startEmbeddedPostgres } from '../../src/infra/services/embedded-postgres.js';
import { freePort } from '../../src/infra/services/process-tools.js';
import { startTestBroker } from '../support/broker.js';
import { bodyFixture, elementText, lasRequest, OIN_25BE, send } from '../support/soap.js';

jest.setTimeout(90_000);

const ACCEPT_TIMEOUT_MS = 300;
const STOPPED_MS = 7_000; // longer than the accept timeout and than the pools' 5 s client-side query timeout

type Outcome = 'receipt' | 'fault' | 'no answer';

/** The postmaster (from postmaster.pid) and every process below it. */
function postgresProcesses(dataDir: string): number[] {
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the parent pid follows the last ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [postmaster];
  for (let i = 0; i < tree.length; i += 1) {
    for (const [pid, parent] of parentOf) if (parent === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

/** Stops the postmaster first (no new children), then its children, until no process is left running. */
function stopAll(dataDir: string): number[] {
  const stopped = new Set<number>();
  for (let round = 0; round < 5; round += 1) {
    const fresh = postgresProcesses(dataDir).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      process.kill(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  return [...stopped];
}

async function answerOf(broker: Broker, body: string): Promise<Outcome> {
  try {
    const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    if (elementText(answer.text, 'ontvangstBevestiging') === 'J') return 'receipt';
    if (answer.faultCode !== null) return 'fault';
    throw new Error(`neither receipt nor fault: ${answer.status} ${answer.text.slice(0, 200)}`);
  } catch (error) {
    if ((error as Error).message.startsWith('neither')) throw error;
    return 'no answer'; // the broker closed the connection without an answer
  }
}

interface Answered {
  readonly documentId: string;
  readonly outcome: Outcome;
  readonly ms: number;
  readonly stored: boolean;
}

describe('a fault is never followed by a commit', () => {
  let dir: string;
  let dataDir: string;
  let postgres: RunningService;
  const brokers: Broker[] = [];
  let stopped: number[] = [];

  const resume = (): void => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    stopped = [];
  };

  const startBroker = async (env: Record<string, string> = {}): Promise<Broker> => {
    // startTestBroker migrates the database it is given.
    const broker = await startTestBroker({
      databaseUrl: postgres.url,
      env: { ACCEPT_TIMEOUT_MS: String(ACCEPT_TIMEOUT_MS), ACCEPT_MAX_IN_FLIGHT: '2', ...env },
    });
    brokers.push(broker);
    return broker;
  };

  /** Sends eight messages while every PostgreSQL process is stopped for `stoppedMs`; what each got and whether it is stored. */
  async function sendWhileStopped(broker: Broker, stoppedMs: number): Promise<Answered[]> {
    // Both accept connections open, so the statements below are written to the stopped server's socket.
    await Promise.all([0, 1, 2, 3].map(() => answerOf(broker, bodyFixture('valid/aanleverenInschrijvingVO.xml'))));

    stopped = stopAll(dataDir);
    const documentIds = Array.from({ length: 8 }, () => randomUUID());
    const answers = documentIds.map(async (documentId, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * 40));
      const started = Date.now();
      const outcome = await answerOf(broker, bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId));
      return { outcome, ms: Date.now() - started };
    });
    await new Promise((resolve) => setTimeout(resolve, stoppedMs));
    resume();
    const answered = await Promise.all(answers);
    // Anything the resumed server still had queued has run by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const rows = await client.query<{ document_id: string }>(
      'SELECT document_id FROM inbound_messages WHERE sender_oin = $1 AND document_id = ANY($2::uuid[])',
      [OIN_25BE, documentIds],
    );
    await client.end();
    const storedIds = new Set(rows.rows.map((row) => row.document_id));
    const report = documentIds.map((documentId, index) => ({
      documentId,
      ...answered[index]!,
      stored: storedIds.has(documentId),
    }));
    process.stderr.write(
      `accept-fault-commit (stopped ${stoppedMs} ms): ${JSON.stringify(report.map(({ documentId: _, ...rest }) => rest))}\n`,
    );

    // The test means something only if some message was in flight when the server stopped.
    expect(report.some((r) => r.outcome !== 'receipt')).toBe(true);
    expect(report.filter((r) => r.outcome === 'fault' && r.stored)).toEqual([]);
    expect(report.filter((r) => r.outcome === 'receipt' && !r.stored)).toEqual([]);
    return report;
  }

  /** Resending a message that got no answer settles it, as a LAS does (again after a DK0051): a receipt, and one stored row. */
  async function resendUnanswered(broker: Broker, report: readonly Answered[]): Promise<void> {
    for (const { documentId } of report.filter((r) => r.outcome === 'no answer')) {
      const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId);
      const tries: Outcome[] = [];
      while (tries.length < 5 && tries.at(-1) !== 'receipt') tries.push(await answerOf(broker, body));
      if (tries.length > 1) process.stderr.write(`accept-fault-commit: resend took ${JSON.stringify(tries)}\n`);
      expect(tries.at(-1)).toBe('receipt');
      const rows = await broker.pool.query('SELECT count(*)::int AS n FROM inbound_messages WHERE document_id = $1', [
        documentId,
      ]);
      expect(rows.rows[0].n).toBe(1);
    }
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-accept-fault-'));
    fs.chmodSync(dir, 0o755); // the postgres system user must reach its data folder
    dataDir = path.join(dir, 'pg');
    postgres = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      database: 'postgres',
      log: () => undefined,
    });
  });
  afterAll(async () => {
    resume();
    for (const broker of brokers) await broker.close();
    await postgres?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('stopped past the accept timeout: no faulted message is stored, every receipted one is', async () => {
    const broker = await startBroker();
    const report = await sendWhileStopped(broker, STOPPED_MS);
    // The server came back within ACCEPT_OUTCOME_WAIT_MS (default 10 s): every outcome was learnt.
    expect(report.filter((r) => r.outcome === 'no answer')).toEqual([]);
  });

  test('stopped longer than the outcome wait: in-flight messages get no answer, and resending settles them', async () => {
    const broker = await startBroker({ ACCEPT_OUTCOME_WAIT_MS: '1000' });
    const report = await sendWhileStopped(broker, 3_000);
    expect(report.some((r) => r.outcome === 'no answer')).toBe(true);
    await resendUnanswered(broker, report);
  });
});
