import cliProgress from 'cli-progress';

/**
 * Progress for long loops: a live bar on a terminal, and a plain line every `intervalMs`
 * (and at the end) when output goes to a file or CI log.
 */
export interface Progress {
  /** Advance by `n` items; `fields` are shown after the bar (loss, lr, ...). */
  tick(n?: number, fields?: Record<string, string | number>): void;
  /** Ends the report: stops the live bar, or prints the final plain line whatever `intervalMs`. Call once, after the loop. */
  stop(): void;
}

/** What `progress` reports on. */
export interface ProgressOptions {
  /** Printed first on the bar or line, e.g. 'train'. */
  label: string;
  /** Items in all: the bar's end, and the basis of the percentage and ETA. */
  total: number;
  /** Name of one item in counts and rates (default 'it'). */
  unit?: string;
  /** Where to write (default `process.stderr`); a live bar only when it is a TTY and `CI` is unset. */
  stream?: NodeJS.WriteStream;
  /** Least time between plain lines, in milliseconds (default 10 000); unused with a live bar. */
  intervalMs?: number;
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
    .join('  ');
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return v.toExponential(2);
  return abs >= 100 ? v.toFixed(1) : v.toFixed(4);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${s.toFixed(0)}s`;
}

/**
 * Starts reporting a loop of `options.total` items: a cli-progress bar (rate, ETA, fields) on a
 * terminal, else a plain line with count, percentage, rate and ETA every `intervalMs` and at `stop()`.
 */
export function progress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'it';
  const start = performance.now();
  let done = 0;
  let fields: Record<string, string | number> = {};

  if (stream.isTTY && !process.env.CI) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} [{bar}] {value}/{total} ${unit}  {rate} ${unit}/s  eta {eta_formatted}  {fields}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { rate: '0', fields: '' });
    return {
      tick(n = 1, f) {
        done += n;
        if (f) fields = f;
        const rate = done / ((performance.now() - start) / 1000);
        bar.update(done, { rate: formatNumber(rate), fields: formatFields(fields) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const intervalMs = options.intervalMs ?? 10_000;
  let lastPrint = start;
  const print = () => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = done / elapsed;
    const eta = (options.total - done) / rate;
    stream.write(
      `${options.label} ${done}/${options.total} ${unit} (${((100 * done) / Math.max(1, options.total)).toFixed(0)}%)  ${formatNumber(rate)} ${unit}/s  eta ${formatSeconds(eta)}  ${formatFields(fields)}\n`,
    );
  };
  return {
    tick(n = 1, f) {
      done += n;
      if (f) fields = f;
      const now = performance.now();
      if (now - lastPrint >= intervalMs) {
        lastPrint = now;
        print();
      }
    },
    stop() {
      print();
    },
  };
}
