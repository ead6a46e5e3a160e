/**
 * @module
 * The `faxwire` command line. Each command lives in its own file and registers itself on the program here.
 */
import { Command } from 'commander';
import { registerKeysCommand } from './keys-command.ts';
import { registerRenderCommand } from './render-command.ts';
import { registerStartCommand } from './start-command.ts';

export function createProgram(): Command {
  const program = new Command('faxwire')
    .description('Faxwire: self-hostable fax platform')
    .showHelpAfterError();
  registerRenderCommand(program);
  registerStartCommand(program);
  registerKeysCommand(program);
  return program;
}

await createProgram().parseAsync(process.argv);
