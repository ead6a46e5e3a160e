/**
 * @module
 * The `telefax` command line. Each command group registers itself from its own file, so groups can be
 * added without touching each other.
 */

import { Command } from 'commander';
import { reportCliError } from './cli-error.ts';
import { registerFaxCommands } from './fax-commands.ts';
import { registerImageCommands } from './image-commands.ts';
import { registerSipCommands } from './sip-commands.ts';

export function createProgram(): Command {
  const program = new Command('telefax')
    .description('Fax stack tools: T.4/T.6 codecs, TIFF Class F, T.30 sessions over T.38')
    .showHelpAfterError(false);
  registerImageCommands(program);
  registerFaxCommands(program);
  registerSipCommands(program);
  return program;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  reportCliError(err);
}
