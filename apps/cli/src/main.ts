import { reportError } from './commands/shared.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  reportError(error);
}
