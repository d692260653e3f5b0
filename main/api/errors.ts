/**
 * Turning anything thrown by a service into the contract's `ApiError`. Services throw ordinary Errors; the
 * ones that know what went wrong attach a `code` (and maybe a `hint`) — `ApiFailure` below, `CliError`, or any
 * Error with those properties. Everything else is a bug on our side and becomes INTERNAL with its message.
 */
import type { ApiError, ErrorCode } from '../../preload/contract.ts';

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'INVALID_ARGUMENT', 'NOT_FOUND', 'BAD_MODEL', 'BAD_DATA', 'UNSUPPORTED', 'DEVICE', 'CANCELLED', 'CONFLICT',
  'FORBIDDEN', 'INTERNAL',
]);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/** An Error that already knows its contract code; throw it from services and handlers. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export function toApiError(thrown: unknown): ApiError {
  if (thrown instanceof Error || (typeof thrown === 'object' && thrown !== null)) {
    const { code, message, hint, name } = thrown as { code?: unknown; message?: unknown; hint?: unknown; name?: unknown };
    const text = typeof message === 'string' && message ? message : String(thrown);
    // An AbortError from a cancelled operation is a cancellation, not a crash.
    const mapped = isErrorCode(code) ? code : name === 'AbortError' ? 'CANCELLED' : 'INTERNAL';
    return typeof hint === 'string' && hint ? { code: mapped, message: text, hint } : { code: mapped, message: text };
  }
  return { code: 'INTERNAL', message: String(thrown) };
}
