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
    const result = await this.bridge.request(method, params);
    return validate(requests[method].result, result, `${method} result`) as RequestResult<N>;
  }

  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
    return this.hub.on(event, listener);
  }
}
