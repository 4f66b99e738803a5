import { createLogger, initBackend, isTesseraError } from '@tessera/core';

/** A number option parser that fails with a message naming the option. */
export function numberOption(name: string, check: (n: number) => boolean = Number.isFinite) {
  return (value: string): number => {
    const n = Number(value);
    if (!check(n)) throw new Error(`${name} must be a number${check === Number.isFinite ? '' : ' in range'}, got '${value}'`);
    return n;
  };
}

/** Starts the tensor backend quietly (tfjs-node when installed, else wasm with Tessera's kernels). */
export async function startBackend(): Promise<void> {
  const info = await initBackend();
  createLogger('tessera').debug(`backend ${info.name}${info.native.active ? ' + native kernels' : ''}`);
}

/** Prints a TesseraError as `error [CODE]: what to do`, anything else with its stack, and sets the exit code. */
export function reportError(error: unknown): void {
  if (isTesseraError(error)) {
    console.error(`error [${error.code}]: ${error.message}`);
  } else {
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  process.exitCode = 1;
}
