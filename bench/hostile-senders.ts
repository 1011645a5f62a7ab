/**
 * The hostile senders of bench:hostile, in a process of their own at the lowest CPU priority (`nice`),
 * standing in for the attackers' own machines: their CPU is not the broker's, nor the valid sender's.
 * The bench sends the setup as the first message (advanced serialization). Each sender loops until told to stop:
 * a request on a connection of its own, its answer read, the connection closed, the next request.
 * 'pause' and 'resume' switch them off and on for the bench's quiet windows.
 */
import http from 'node:http';
import https from 'node:https';

export interface HostileKind {
  readonly name: string;
  readonly senders: number;
  /** The request: path, SOAPAction and body (bytes), made once. */
  readonly path: string;
  readonly soapAction: string;
  readonly body: Uint8Array;
  /** Send the body this many bytes at a time with `pauseMs` between (a slow sender); else at once. */
  readonly slow?: { readonly bytes: number; readonly pauseMs: number; readonly connections: number };
  /** Over mutual TLS: the client certificate and key (PEM) the sender presents. */
  readonly client?: { readonly cert: Uint8Array; readonly key: Uint8Array };
}

export interface HostileReport {
  /** Per kind: answers by status and fault code, and connections that ended without an answer. */
  readonly answers: Record<string, Record<string, number>>;
}

const FAULT_CODE = /<faultcode>soapenv:([^<]+)<\/faultcode>/;

interface Setup {
  readonly port: number;
  readonly kinds: readonly HostileKind[];
  /** Mutual TLS: the CA the broker's certificate chains to. */
  readonly ca?: Uint8Array;
}

let setup: Setup = { port: 0, kinds: [] };
let running = true;
/** While paused (the quiet windows), senders finish what they sent and wait. */
let paused = false;
let unpause: Promise<void> = Promise.resolve();
let resume: () => void = () => undefined;
const answers: Record<string, Record<string, number>> = {};
const count = (kind: string, outcome: string): void => {
  const byOutcome = answers[kind] ?? {};
  byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  answers[kind] = byOutcome;
};

/** Over TLS a sender keeps its connection (as a LAS does) rather than pay a handshake per request. */
function once(kind: HostileKind, agent: https.Agent | undefined): Promise<void> {
  return new Promise((resolve) => {
    const body = Buffer.from(kind.body);
    const request = agent ? https.request : http.request;
    const req = request(
      {
        host: '127.0.0.1',
        port: setup.port,
        path: kind.path,
        method: 'POST',
        agent: agent ?? false,
        headers: {
          'content-type': 'text/xml; charset=UTF-8',
          'content-length': body.length,
          soapaction: kind.soapAction,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const code = FAULT_CODE.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
          count(kind.name, `${res.statusCode} ${code ?? ''}`.trim());
          // A sender that got its answer stops sending (as curl does) rather than upload the rest.
          if (!agent || !req.writableFinished) req.destroy();
          resolve();
        });
        res.on('error', () => resolve());
      },
    );
    req.on('error', () => {
      count(kind.name, 'no answer');
      resolve();
    });
    void (async () => {
      if (!kind.slow) {
        req.end(body);
        return;
      }
      for (let at = 0; at < body.length && running && !paused && !req.destroyed; at += kind.slow.bytes) {
        req.write(body.subarray(at, at + kind.slow.bytes));
        await new Promise((r) => setTimeout(r, kind.slow!.pauseMs));
      }
      if (running && !paused) req.end();
      else req.destroy();
    })();
  });
}

async function sender(kind: HostileKind): Promise<void> {
  const ca = setup.ca;
  const agent =
    ca && kind.client
      ? new https.Agent({
          keepAlive: !kind.slow,
          maxSockets: 1,
          ca: Buffer.from(ca),
          cert: Buffer.from(kind.client.cert),
          key: Buffer.from(kind.client.key),
        })
      : undefined;
  while (running) {
    if (paused) await unpause;
    else await once(kind, agent);
  }
  agent?.destroy();
}

let loops: Promise<void>[] = [];
process.on('message', (message: string | Setup) => {
  if (typeof message !== 'string') {
    setup = message;
    loops = setup.kinds.flatMap((kind) =>
      Array.from({ length: kind.senders * (kind.slow?.connections ?? 1) }, () => sender(kind)),
    );
    return;
  }
  if (message === 'pause' && !paused) {
    paused = true;
    unpause = new Promise((resolve) => {
      resume = resolve;
    });
  }
  if (message === 'resume' && paused) {
    paused = false;
    resume();
  }
  if (message !== 'stop') return;
  running = false;
  paused = false;
  resume();
  void Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]).then(() =>
    process.send!({ answers } satisfies HostileReport, () => process.exit(0)),
  );
});
