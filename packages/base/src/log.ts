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
  const level = process.env.TESSERA_LOG_LEVEL as LogLevel | undefined;
  return level && level in ORDER ? level : 'info';
}

export function createLogger(scope: string): Logger {
  const write = (level: LogLevel, message: string) => {
    if (ORDER[level] < ORDER[currentLevel()]) return;
    const prefix = level === 'info' ? '' : `${level}: `;
    process.stderr.write(`[${scope}] ${prefix}${message}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
