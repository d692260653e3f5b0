/**
 * The API layer: one handler per method of `ApiMethods`. Each validates its arguments with the method's zod
 * schema, calls services, and returns a `Result` — never throws. IPC (main/app), the web test host and tests
 * all go through `dispatch`, so every transport gets the same validation and the same error mapping.
 */
import { argSchemas, describeIssues } from './schemas.ts';
import { handlers as implementations } from './handlers.ts';
import { toApiError } from './errors.ts';
import type { ApiEvent, ApiMethod, ArgsOf, Result, ResultOf } from '../../preload/contract.ts';
import type { Services } from './services.ts';

export type ApiHandlers = { [M in ApiMethod]: (args: unknown) => Promise<Result<ResultOf<M>>> };

export interface Api {
  handlers: ApiHandlers;
  /** Any method name and any arguments, as they arrive from a transport. */
  dispatch(method: string, args: unknown): Promise<Result<unknown>>;
  /** Events for transports to forward; returns the unsubscribe function. */
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

const METHODS = Object.keys(argSchemas) as ApiMethod[];

export function isApiMethod(method: unknown): method is ApiMethod {
  return typeof method === 'string' && Object.hasOwn(argSchemas, method);
}

function makeHandler<M extends ApiMethod>(method: M, services: Services) {
  const schema = argSchemas[method];
  const implementation = implementations[method] as (args: ArgsOf<M>, services: Services) => Promise<ResultOf<M>> | ResultOf<M>;
  return async (args: unknown): Promise<Result<ResultOf<M>>> => {
    const parsed = schema.safeParse(args);
    if (!parsed.success) {
      return { ok: false, error: { code: 'INVALID_ARGUMENT', message: describeIssues(method, parsed.error) } };
    }
    try {
      return { ok: true, value: await implementation(parsed.data as ArgsOf<M>, services) };
    } catch (thrown) {
      const error = toApiError(thrown);
      if (error.code === 'INTERNAL') console.error(`edgewise: ${method} failed`, thrown);
      return { ok: false, error };
    }
  };
}

export function createApi(services: Services): Api {
  const handlers = Object.fromEntries(METHODS.map((method) => [method, makeHandler(method, services)])) as ApiHandlers;
  return {
    handlers,
    async dispatch(method, args) {
      if (!isApiMethod(method)) {
        const name = typeof method === 'string' ? `"${method}"` : String(method);
        return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `Unknown API method ${name}.`, hint: `Known methods: ${METHODS.join(', ')}.` } };
      }
      return handlers[method](args);
    },
    subscribe: (listener) => services.events.subscribe(listener),
  };
}
