// Browser-mode transport: one WebSocket to `iommuscope serve`, carrying the
// contract's request/response and event envelopes as JSON. Reconnects with
// backoff; after every (re)open it asks the core to resync so a reload or a
// dropped socket brings the whole state back.
import {
  MAX_MESSAGE_BYTES,
  requests,
  type CoreApi,
  type EventName,
  type EventPayload,
  type RequestName,
  type RequestParams,
  type RequestResult,
  type ResponseEnvelope,
} from '../../../main/common/contract';
import { validate } from '../../../main/common/schema';
import { RequestError } from '../../../main/common/request-error';
import { connection } from './connection';
import { EventHub } from './dispatch';

/** Close codes a server uses to refuse the token (policy violation, 4401/4403 "unauthorized"). */
const REFUSED_CLOSE_CODES = new Set([1008, 4001, 4401, 4403]);
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 5000];
/** A request that cannot even be sent this long fails instead of hanging. */
const QUEUE_TIMEOUT_MS = 15_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  method: RequestName;
}

export class WebSocketCore implements CoreApi {
  private readonly hub = new EventHub();
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, Pending>();
  /** Requests waiting for the socket to open. */
  private queue: { text: string; id: number; timer: ReturnType<typeof setTimeout> }[] = [];
  private everOpened = false;
  private stopped = false;
  /** Called after each (re)open, before queued requests go out. */
  onOpen: () => void = () => {};

  constructor(
    private readonly url: string,
    private readonly probeUrl: string,
    /** Set when the page cannot connect at all (no token): shown instead of connecting. */
    refusal?: string,
  ) {
    if (refusal) {
      this.refuse('');
      connection.message = refusal;
    } else this.connect();
  }

  /** The socket in use (tests close it to simulate a drop). */
  get currentSocket(): WebSocket | null {
    return this.socket;
  }

  request<N extends RequestName>(method: N, params: RequestParams<N>): Promise<RequestResult<N>> {
    validate(requests[method].params, params, method);
    const id = this.nextId++;
    const text = JSON.stringify({ id, method, params });
    return new Promise<unknown>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject, method });
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
      else {
        const timer = setTimeout(() => {
          this.queue = this.queue.filter((q) => q.id !== id);
          this.fail(id, new RequestError('ENOTCONN', `${method}: not connected to the core`));
        }, QUEUE_TIMEOUT_MS);
        this.queue.push({ text, id, timer });
      }
    }).then((result) => validate(requests[method].result, result, `${method} result`)) as Promise<
      RequestResult<N>
    >;
  }

  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
    return this.hub.on(event, listener);
  }

  private connect(): void {
    if (this.stopped) return;
    connection.phase = this.everOpened ? 'reconnecting' : 'connecting';
    const socket = new WebSocket(this.url);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.everOpened = true;
      connection.phase = 'open';
      connection.message = '';
      connection.attempts = 0;
      connection.generation++;
      this.onOpen();
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) {
        clearTimeout(q.timer);
        socket.send(q.text);
      }
    };
    socket.onmessage = (ev: MessageEvent) => this.receive(ev.data);
    socket.onclose = (ev: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const [id, p] of this.inFlight) {
        if (this.queue.some((q) => q.id === id)) continue;
        this.fail(id, new RequestError('ECONNRESET', `${p.method}: connection to the core lost`));
      }
      if (REFUSED_CLOSE_CODES.has(ev.code)) return this.refuse(ev.reason);
      if (!opened)
        void this.probeToken().then((refused) => (refused ? this.refuse('') : this.retry()));
      else this.retry();
    };
  }

  private retry(): void {
    const delay = BACKOFF_MS[Math.min(connection.attempts, BACKOFF_MS.length - 1)] ?? 5000;
    connection.attempts++;
    connection.phase = this.everOpened ? 'reconnecting' : 'connecting';
    connection.message = `Not connected to the iommuscope core; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${connection.attempts}). Is \`iommuscope serve\` still running?`;
    setTimeout(() => this.connect(), delay);
  }

  /** The upgrade failed: ask over plain HTTP whether the token was the reason. */
  private async probeToken(): Promise<boolean> {
    try {
      const res = await fetch(this.probeUrl, { cache: 'no-store' });
      return res.status === 401 || res.status === 403;
    } catch {
      return false;
    }
  }

  private refuse(reason: string): void {
    this.stopped = true;
    connection.phase = 'refused';
    connection.message =
      'The core refused this page\u2019s access token' +
      (reason ? ` (${reason})` : '') +
      '. Open the exact URL that `iommuscope serve` printed (it ends in ?token=…); ' +
      'the token changes every time serve starts.';
    for (const q of this.queue) {
      clearTimeout(q.timer);
      this.fail(q.id, new RequestError('EACCES', 'access token refused'));
    }
    this.queue = [];
  }

  private fail(id: number, err: Error): void {
    const p = this.inFlight.get(id);
    if (!p) return;
    this.inFlight.delete(id);
    p.reject(err);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string' || data.length > MAX_MESSAGE_BYTES) {
      console.error('dropped a message that is not JSON text or is too large');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      console.error('dropped a message that is not valid JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const rec = msg as Record<string, unknown>;
    if (typeof rec.event === 'string') {
      const problem = this.hub.emit(rec.event, rec.payload);
      if (problem) console.error(`dropped invalid event: ${problem}`);
      return;
    }
    if (typeof rec.id === 'number') {
      const res = msg as ResponseEnvelope;
      const p = this.inFlight.get(res.id);
      if (!p) return;
      this.inFlight.delete(res.id);
      if (res.ok) p.resolve(res.result);
      else
        p.reject(new RequestError(res.error?.code ?? 'EUNKNOWN', res.error?.message ?? 'failed'));
    }
  }
}
