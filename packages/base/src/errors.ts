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

export class TesseraError extends Error {
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

export function isTesseraError(value: unknown, code?: TesseraErrorCode): value is TesseraError {
  return value instanceof TesseraError && (code === undefined || value.code === code);
}
