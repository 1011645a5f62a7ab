import { Command } from 'commander';
import { ConfigError } from './infra/config.js';
import { registerAuditCommand } from './operator/cli/audit.command.js';
import { exitWhenFlushed, toleratePipeErrors } from './operator/cli/cli-support.js';
import { registerEducationCommands } from './operator/cli/education.command.js';
import { registerErrorCommands } from './operator/cli/errors.command.js';
import { registerInstitutionCommands } from './operator/cli/institutions.command.js';
import { registerKeysCommands } from './operator/cli/keys.command.js';
import { registerPopulationCommands } from './operator/cli/population.command.js';
import { registerProcessingErrorCommands } from './operator/cli/processing-errors.command.js';
import { registerQualityCommands } from './operator/cli/quality.command.js';
import { registerRioCommands } from './operator/cli/rio.command.js';
import { registerStatsCommands } from './operator/cli/stats.command.js';
import { registerSubscriptionCommands } from './operator/cli/subscriptions.command.js';
import { registerTraceCommand } from './operator/cli/trace.command.js';

/** Commander is done (help shown, usage error already printed) and would have exited with `code`. */
class CommanderExit {
  constructor(readonly code: number) {}
}

toleratePipeErrors();
// Commander's own exits (help, usage errors) also go through exitWhenFlushed; subcommands inherit this.
const program = new Command('bron-broker').description('bron-broker operator commands').exitOverride((error) => {
  throw new CommanderExit(error.exitCode);
});
registerInstitutionCommands(program);
registerErrorCommands(program);
registerProcessingErrorCommands(program);
registerTraceCommand(program);
registerStatsCommands(program);
registerAuditCommand(program);
registerPopulationCommands(program);
registerQualityCommands(program);
registerRioCommands(program);
registerEducationCommands(program);
registerSubscriptionCommands(program);
registerKeysCommands(program);

program.parseAsync().then(
  () => exitWhenFlushed(Number(process.exitCode ?? 0)),
  (error: unknown) => {
    if (error instanceof CommanderExit) return exitWhenFlushed(error.code);
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return exitWhenFlushed(1);
  },
);
