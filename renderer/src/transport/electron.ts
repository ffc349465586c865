// Electron transport: the preload bridge (`window.iommuscope`) carries the
// same requests and events over IPC. The bridge is always connected.
import {
  events,
  requests,
  type CoreApi,
  type EventName,
  type EventPayload,
  type RequestName,
  type RequestParams,
  type RequestResult,
} from '../../../main/common/contract';
import { validate } from '../../../main/common/schema';
import { RequestError } from '../../../main/common/request-error';
import { connection } from './connection';
import { EventHub } from './dispatch';

export interface PreloadBridge {
  request(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): (() => void) | void;
}

declare global {
  interface Window {
    iommuscope?: PreloadBridge;
  }
}

/**
 * Only an Error's message crosses the context bridge; the preload encodes the
 * core's error as "[CODE] message" so it becomes the same RequestError the
 * WebSocket transport gives.
 */
export function fromBridgeError(err: unknown): Error {
  const text = err instanceof Error ? err.message : String(err);
  const m = /\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(text);
  return m ? new RequestError(m[1]!, m[2]!) : new RequestError('EIPC', text);
}

export class ElectronCore implements CoreApi {
  private readonly hub = new EventHub();

  constructor(private readonly bridge: PreloadBridge) {
    for (const name of Object.keys(events) as EventName[]) {
      bridge.on(name, (payload) => {
        const problem = this.hub.emit(name, payload);
        if (problem) console.error(`dropped invalid event: ${problem}`);
      });
    }
    connection.phase = 'open';
    connection.message = '';
    connection.generation++;
  }

  async request<N extends RequestName>(
    method: N,
    params: RequestParams<N>,
  ): Promise<RequestResult<N>> {
    validate(requests[method].params, params, method);
    let result: unknown;
    try {
      result = await this.bridge.request(method, params);
    } catch (err) {
      throw fromBridgeError(err);
    }
    return validate(requests[method].result, result, `${method} result`) as RequestResult<N>;
  }

  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
    return this.hub.on(event, listener);
  }
}
