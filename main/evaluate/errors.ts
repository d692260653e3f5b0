/** Error codes for the CLI and API (the ErrorCode union in preload/contract.ts): one helper, used by evaluate and optimize. */

/** Tags an error with an API error code (unless it already has one) so the CLI and API report the right kind. */
export async function withCode<T>(code: string, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof Error && typeof (e as { code?: unknown }).code !== 'string') Object.assign(e, { code });
    throw e;
  }
}

/** A data problem (reported as BAD_DATA). */
export function badData(message: string): Error {
  return Object.assign(new Error(message), { code: 'BAD_DATA' });
}
