// The retrieval commands as a standalone program, so the load test can run `serve` in its own process.
import { Command } from 'commander';
import { createRetrievalCommands } from '../src/index.js';

const program = new Command('tessera-retrieval');
for (const command of createRetrievalCommands()) program.addCommand(command);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
