/**
 * Every error Tessera raises on purpose. `code` is stable (safe to switch on);
 * `message` says what went wrong and what to do about it.
 */
export type TesseraErrorCode =
  | 'E_BACKEND_UNKNOWN'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_CONFIG'
  | 'E_SAFETENSORS'
  | 'E_IO'
  | 'E_PLATFORM'
  | 'E_INPUT'
  | (string & {});

/**
 * The error Tessera throws for caller and environment problems (bad config, shapes, files,
 * backends): switch on `code` (E_CONFIG, E_SHAPE, E_IO...), read `details` for context; the
 * underlying error, if any, is `cause`. `name` is 'TesseraError'.
 */
export class TesseraError extends Error {
  /** What kind of problem, stable across releases (safe to switch on). */
  readonly code: TesseraErrorCode;
  /** Extra machine-readable context (a path, a field name...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: TesseraErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Type guard: whether `value` is a TesseraError, and of `code` when one is given
 * (`if (isTesseraError(e, 'E_IO')) ...`). An instanceof check, so an error from a second
 * installed copy of @tessera/base does not match.
 */
export function isTesseraError(value: unknown, code?: TesseraErrorCode): value is TesseraError {
  return value instanceof TesseraError && (code === undefined || value.code === code);
}
