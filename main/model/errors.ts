/** The one error type model importers throw for bad input: the message starts with the file it is about. */
export class ModelImportError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelImportError';
  }
}

/** Re-throws ModelImportErrors; wraps anything else (a malformed structure tripping a TypeError) with the file. */
export function asImportError(file: string, e: unknown, context = 'cannot be imported'): ModelImportError {
  if (e instanceof ModelImportError) return e;
  return new ModelImportError(file, `${context} (${e instanceof Error ? e.message : String(e)})`);
}
