/** A small leveled logger writing to stderr, so stdout stays clean for --json output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
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
