// `tessera <retrieval command>` as its own process, for tests of several indexers at once:
// the commands apps/cli mounts, with its error printing.
import { isTesseraError } from '@tessera/core';
import { Command } from 'commander';
import { createRetrievalCommands } from '../src/commands.js';

const program = new Command('tessera');
for (const command of createRetrievalCommands()) program.addCommand(command);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (isTesseraError(error)) console.error(`error [${error.code}]: ${error.message}`);
  else console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
