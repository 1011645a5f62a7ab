import { Command } from 'commander';
import { ConfigError } from './config.js';
import { registerErrorCommands } from './operator/errors.command.js';
import { registerInstitutionCommands } from './operator/institutions.command.js';
import { registerPopulationCommands } from './operator/population.command.js';
import { registerStatsCommands } from './operator/stats.command.js';
import { registerTraceCommand } from './operator/trace.command.js';

const program = new Command('bron-broker').description('bron-broker operator commands');
registerInstitutionCommands(program);
registerErrorCommands(program);
registerTraceCommand(program);
registerStatsCommands(program);
registerPopulationCommands(program);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
