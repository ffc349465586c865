// The one request path shared by both transports (WebSocket server and
// Electron IPC): size check → parse → validate the envelope → known method →
// validate params against the contract → call the typed handler → map any
// failure to { code, message }. A bad message always gets an error response
// naming the field; it never throws and never disturbs other requests.
import {
  MAX_MESSAGE_BYTES,
  isRequestName,
  requestEnvelope,
  requests,
  type EventName,
  type EventPayload,
  type RequestName,
  type RequestParams,
  type RequestResult,
  type ResponseEnvelope,
} from '../../common/contract';
import { SchemaError, validate } from '../../common/schema';
import { GrammarError } from '../../common/grammar-error';
import { RequestError } from '../../common/request-error';

export { RequestError };

/** Error codes of the dispatch layer itself (handlers add their own). */
const DispatchCode = {
  TooBig: 'ETOOBIG',
  Parse: 'EPARSE',
  Envelope: 'EENVELOPE',
  Method: 'EMETHOD',
  Params: 'EPARAMS',
  Internal: 'EINTERNAL',
} as const;

/** Who sent a request; events emitted through it go to that client only. */
export interface RequestContext {
  /** 'ws:3', 'electron:1' ... for logs. */
  client: string;
  emit<N extends EventName>(event: N, payload: EventPayload<N>): void;
}

export type Handlers = {
  [N in RequestName]: (params: RequestParams<N>, ctx: RequestContext) => Promise<RequestResult<N>>;
};

/** Response id used when a message is too broken to carry one. */
export const NO_ID = -1;

function idOf(value: unknown): number {
  if (typeof value === 'object' && value !== null) {
    const id = (value as { id?: unknown }).id;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  }
  return NO_ID;
}

function fail(id: number, code: string, message: string): ResponseEnvelope {
  return { id, ok: false, error: { code, message } };
}

/** Map anything a handler throws to a wire error; unexpected errors keep their message. */
function errorToWire(err: unknown): { code: string; message: string } {
  if (err instanceof RequestError) return { code: err.code, message: err.message };
  if (err instanceof SchemaError) return { code: DispatchCode.Params, message: err.message };
  if (err instanceof GrammarError) return { code: 'EGRAMMAR', message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : DispatchCode.Internal, message: err.message };
  }
  return { code: DispatchCode.Internal, message: String(err) };
}

/** The size check both transports make on a message measured as JSON text. */
function tooBig(id: number, json: string): ResponseEnvelope | undefined {
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= MAX_MESSAGE_BYTES) return undefined;
  return fail(
    id,
    DispatchCode.TooBig,
    `message: ${bytes} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`,
  );
}

/** A raw text message (WebSocket): size check and JSON parse, then dispatch(). */
export async function dispatchText(
  handlers: Handlers,
  text: string,
  ctx: RequestContext,
): Promise<ResponseEnvelope> {
  const refused = tooBig(NO_ID, text);
  if (refused) return refused;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return fail(NO_ID, DispatchCode.Parse, `message: not valid JSON (${why})`);
  }
  return dispatch(handlers, value, ctx);
}

/** A structured-clone message (Electron IPC): the same size limit, measured as JSON. */
export async function dispatchValue(
  handlers: Handlers,
  value: unknown,
  ctx: RequestContext,
): Promise<ResponseEnvelope> {
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return fail(idOf(value), DispatchCode.Parse, `message: not representable as JSON (${why})`);
  }
  return tooBig(idOf(value), json) ?? dispatch(handlers, value, ctx);
}

/** An already-parsed message (after dispatchText or dispatchValue). */
export async function dispatch(
  handlers: Handlers,
  value: unknown,
  ctx: RequestContext,
): Promise<ResponseEnvelope> {
  const id = idOf(value);
  const envelopeProblem = requestEnvelope.check(value, 'message');
  if (envelopeProblem !== undefined) return fail(id, DispatchCode.Envelope, envelopeProblem);
  const { method, params = {} } = value as { method: string; params?: object };
  if (!isRequestName(method)) {
    return fail(id, DispatchCode.Method, `method: unknown method ${JSON.stringify(method)}`);
  }
  return call(handlers, method, params, id, ctx);
}

async function call<N extends RequestName>(
  handlers: Handlers,
  method: N,
  params: unknown,
  id: number,
  ctx: RequestContext,
): Promise<ResponseEnvelope> {
  let typed: RequestParams<N>;
  try {
    typed = validate(requests[method].params, params, 'params') as RequestParams<N>;
  } catch (err) {
    return fail(id, DispatchCode.Params, `${method}: ${errorToWire(err).message}`);
  }
  try {
    const handler = handlers[method] as (
      p: RequestParams<N>,
      c: RequestContext,
    ) => Promise<RequestResult<N>>;
    const result = await handler(typed, ctx);
    return { id, ok: true, result };
  } catch (err) {
    return { id, ok: false, error: errorToWire(err) };
  }
}
