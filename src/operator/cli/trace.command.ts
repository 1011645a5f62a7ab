import fs from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { isPgnShaped } from '../../infra/pupil-key.js';
import { type MessageTrace, traceByBrin, traceByPupil, traceMessage } from '../trace.js';
import { brin, printJson, when, withOperator } from './cli-support.js';

function printTrace(trace: MessageTrace): void {
  const head =
    trace.inboundId !== null
      ? `message ${trace.inboundId}  ${trace.operation} from ${trace.senderOin}  BRIN ${trace.brin ?? '-'}  outcome ${trace.outcome ?? '(not processed)'}`
      : `outbound message ${trace.outboundIds.join(', ')} (no inbound cause)  BRIN ${trace.brin ?? '-'}`;
  process.stdout.write(`${head}${trace.pupils.length > 0 ? `  pupil ${trace.pupils.join(', ')}` : ''}\n`);
  if (trace.documentId) process.stdout.write(`  identificatiecode ${trace.documentId}\n`);
  for (const event of trace.events) {
    const push = event.outboundId !== undefined ? `[o${event.outboundId}] ` : '';
    process.stdout.write(
      `  ${(event.at ? when(event.at) : '…').padEnd(19)}  ${event.step.padEnd(12)}  ${push}${event.detail}\n`,
    );
  }
}

/** The PGN from --pupil, or from stdin with `--pupil -` (keeps it out of shell history and `ps`). */
function pupilArgument(value: string): string {
  const pgn = value === '-' ? fs.readFileSync(0, 'utf8').trim() : value.trim();
  if (!isPgnShaped(pgn)) throw new InvalidArgumentError('a PGN (BSN or onderwijsnummer) is nine digits');
  return pgn;
}

/** `bron-broker trace`: one message's life, or the newest messages of a BRIN or a pupil. */
export function registerTraceCommand(program: Command): void {
  program
    .command('trace [ref]')
    .description(
      "a message's timeline: received → validated → accepted → processed → each push → each attempt → acknowledged. " +
        'REF is an inbound message id (42), an outbound id (o42), or a UUID (identificatiecode or MessageID)',
    )
    .option('--brin <brin>', 'the newest messages delivered for this BRIN', brin)
    .option(
      '--pupil <pgn>',
      'the newest messages about this pupil (BSN or onderwijsnummer; - reads it from stdin); found by keyed hash, shown masked',
      pupilArgument,
    )
    .option('--limit <n>', 'how many messages for --brin or --pupil', (v) => Number(v), 10)
    .option('--json', 'print JSON')
    .action(
      async (ref: string | undefined, options: { brin?: string; pupil?: string; limit: number; json?: boolean }) => {
        const chosen = [ref !== undefined, options.brin !== undefined, options.pupil !== undefined].filter(
          Boolean,
        ).length;
        if (chosen !== 1) throw new InvalidArgumentError('give exactly one of: a message reference, --brin or --pupil');
        const traces = await withOperator(async (deps) => {
          if (options.brin) return traceByBrin(deps.pool, options.brin, options.limit);
          if (options.pupil) return traceByPupil(deps.pool, deps.traceKey, options.pupil, options.limit);
          const one = await traceMessage(deps.pool, ref!);
          if (!one) throw new Error(`no message ${ref}`);
          return [one];
        });
        if (options.json) return printJson(ref !== undefined ? traces[0] : traces);
        if (traces.length === 0) process.stdout.write('no messages found\n');
        traces.forEach((trace, index) => {
          if (index > 0) process.stdout.write('\n');
          printTrace(trace);
        });
      },
    );
}
