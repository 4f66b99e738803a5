/** A small leveled logger writing to stderr, so stdout stays clean for --json output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A scoped logger from `createLogger`, writing lines to stderr (`console.error` in a browser).
 * Each call checks `TESSERA_LOG_LEVEL` (debug, info, warn, error, silent; default info) and
 * drops messages below it.
 */
export interface Logger {
  /** Shown only at `TESSERA_LOG_LEVEL=debug`, as `[scope] debug: message`. */
  debug(message: string): void;
  /** `[scope] message` (no level tag); hidden at level warn and above. */
  info(message: string): void;
  /** `[scope] warn: message`; hidden only at level error or silent. */
  warn(message: string): void;
  /** `[scope] error: message`; hidden only at level silent. */
  error(message: string): void;
}

function currentLevel(): LogLevel {
  const level = (typeof process === 'undefined' ? undefined : process.env?.TESSERA_LOG_LEVEL) as LogLevel | undefined;
  return level && level in ORDER ? level : 'info';
}

/**
 * A logger whose lines start with `[scope]`, at the level `TESSERA_LOG_LEVEL` names (default
 * info), on stderr; where there is no `process` (a browser) on `console.error`, at info.
 */
export function createLogger(scope: string): Logger {
  const write = (level: LogLevel, message: string) => {
    if (ORDER[level] < ORDER[currentLevel()]) return;
    const prefix = level === 'info' ? '' : `${level}: `;
    const line = `[${scope}] ${prefix}${message}`;
    if (typeof process === 'undefined' || !process.stderr) console.error(line);
    else process.stderr.write(`${line}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
