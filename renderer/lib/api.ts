/**
 * The renderer's typed client over `window.edgewise` (the Electron preload or the web test host's client —
 * the renderer cannot tell which). `call` unwraps a Result into its value, or shows the error as a toast and
 * throws `ApiCallError`; `request` returns the Result for screens that render errors themselves.
 */
import type { ApiError, ApiEvent, ApiMethod, ArgsOf, EdgewiseApi, Result, ResultOf } from '../../preload/contract.ts';
import { toasts } from './toasts.svelte.ts';

declare global {
  interface Window {
    edgewise?: EdgewiseApi;
  }
}

export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

function bridge(): EdgewiseApi | null {
  return window.edgewise ?? null;
}

export function hasBridge(): boolean {
  return bridge() !== null;
}

export async function request<M extends ApiMethod>(method: M, args: ArgsOf<M>): Promise<Result<ResultOf<M>>> {
  const api = bridge();
  if (!api) return { ok: false, error: { code: 'INTERNAL', message: 'The Edgewise API is not available in this window.' } };
  try {
    return await api.invoke(method, args);
  } catch (thrown) {
    // The transport itself failed (main process gone, socket closed): still a Result for the caller.
    return { ok: false, error: { code: 'INTERNAL', message: thrown instanceof Error ? thrown.message : String(thrown) } };
  }
}

export async function call<M extends ApiMethod>(method: M, args: ArgsOf<M>, failureTitle?: string): Promise<ResultOf<M>> {
  const result = await request(method, args);
  if (result.ok) return result.value;
  toasts.error(result.error, failureTitle);
  throw new ApiCallError(result.error);
}

export function onEvent(listener: (event: ApiEvent) => void): () => void {
  return bridge()?.onEvent(listener) ?? (() => {});
}
