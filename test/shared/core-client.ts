// Test doubles for driving a CoreService the way a transport does: a host
// feed that never touches /sys, and a client that sends requests through
// the same dispatch as a WebSocket or the Electron window.
import assert from 'node:assert/strict';
import type {
  EventEnvelope,
  RequestName,
  RequestParams,
  RequestResult,
  ResponseEnvelope,
} from '../../main/common/contract';
import type { HostTopology } from '../../main/common/host-topology';
import type { CoreService, HostFeed } from '../../main/node/dashboard/core-service';
import { dispatch, type RequestContext } from '../../main/node/dashboard/dispatch';

/** A host with no IOMMU units, groups or devices. */
export const EMPTY_TOPOLOGY: HostTopology = {
  schema: 1,
  sysfsRoot: '/fixture',
  takenAt: 0,
  scanMs: 0,
  units: [],
  groups: [],
  devices: [],
  problems: [],
};

/** A host feed whose topology never changes. */
export function staticHost(topology: HostTopology = EMPTY_TOPOLOGY): HostFeed {
  return {
    start: async () => topology,
    topology,
    onUpdate: () => () => {},
    onError: () => () => {},
    stop: () => {},
  };
}

/** One client of the core, with its own request ids and context; `emit` gets its direct events. */
export function coreClient(
  core: CoreService,
  name = 'test',
  emit: (event: EventEnvelope['event'], payload: unknown) => void = () => {},
) {
  let id = 1;
  const ctx: RequestContext = { client: name, emit };
  const raw = (method: string, params?: unknown): Promise<ResponseEnvelope> =>
    dispatch(core.handlers, { id: id++, method, ...(params !== undefined ? { params } : {}) }, ctx);
  async function call<N extends RequestName>(
    method: N,
    params: RequestParams<N>,
  ): Promise<RequestResult<N>> {
    const r = await raw(method, params);
    if (!r.ok) throw new Error(`${method}: [${r.error.code}] ${r.error.message}`);
    return r.result as RequestResult<N>;
  }
  /** The error of a request that must be refused. */
  async function refused(
    method: string,
    params: unknown,
  ): Promise<{ code: string; message: string }> {
    const r = await raw(method, params);
    assert.equal(r.ok, false, `${method} ${JSON.stringify(params)} should be refused`);
    return r.ok ? { code: '', message: '' } : r.error;
  }
  return { raw, call, refused };
}
