import { isTesseraError } from '@tessera/core';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  // A TesseraError says what to do: `error [CODE]: message`; anything else is a bug, with its stack.
  if (isTesseraError(error)) console.error(`error [${error.code}]: ${error.message}`);
  else console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
