// Property-based fuzzing (fast-check) of everything that decodes untrusted
// bytes or text: PCI config space, VT-d / AMD-Vi registers, fault records,
// the inject and policy grammars, rules files and the WebSocket dispatch.
// Each property: the decoder never throws anything but its own error type,
// and what it returns is well formed. A failing case prints its seed; seeds
// that found bugs are kept below as regression cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeConfig } from '../../main/node/topology/pci-config';
import { decodeIntelUnit } from '../../main/node/topology/intel-cap';
import { decodeAmdUnit } from '../../main/node/topology/amd-cap';
import { decodeFaultRecords, FAULT_RECORD_BYTES } from '../../main/common/fault-record';
import { parseInject } from '../../main/common/inject';
import { parsePolicy, parsePolicyRules } from '../../main/common/policy';
import { GrammarError } from '../../main/common/grammar-error';
import { requests } from '../../main/common/contract';
import { validate } from '../../main/common/schema';
import {
  dispatchText,
  type Handlers,
  type RequestContext,
} from '../../main/node/dashboard/dispatch';
import { escapeForTerminal } from '../../main/common/terminal-text';
import { editDistance } from '../../main/common/suggest';

const RUNS = { numRuns: 400 };

const bytes = (max: number) =>
  fc
    .uint8Array({ maxLength: max })
    .map((a) => a.buffer.slice(a.byteOffset, a.byteOffset + a.length));

/** Config spaces of the sizes sysfs gives (64, 256, 4096) or any, with random cap chains. */
const configSpace = fc.oneof(
  bytes(4096),
  fc
    .constantFrom(64, 256, 4096)
    .chain((n) =>
      fc.uint8Array({ minLength: n, maxLength: n }).map((a) => a.buffer as ArrayBuffer),
    ),
);

test('fuzz decodeConfig: any bytes decode without throwing, states are well formed', () => {
  fc.assert(
    fc.property(configSpace, (buf) => {
      const d = decodeConfig(buf, 'fuzz/config');
      for (const c of [d.ats, d.pri, d.pasid]) {
        assert.ok([true, false, null].includes(c.supported));
        if (c.supported === null) assert.equal(typeof c.unknown, 'string');
      }
      if (d.pasid.maxWidth !== undefined)
        assert.ok(d.pasid.maxWidth >= 0 && d.pasid.maxWidth <= 31);
      for (const p of d.problems) assert.equal(typeof p.message, 'string');
    }),
    RUNS,
  );
});

const hexish = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => b.toString(16)),
  fc.string({ maxLength: 24 }),
);

test('fuzz VT-d and AMD-Vi register decoders: any text, problems instead of throws', () => {
  fc.assert(
    fc.property(hexish, hexish, fc.string({ maxLength: 12 }), (cap, ecap, dom) => {
      const problems: { message: string }[] = [];
      const i = decodeIntelUnit({ cap, ecap, domains_supported: dom }, 'fuzz', problems as never);
      assert.ok(Array.isArray(i.features));
      const a = decodeAmdUnit({ cap, features: `${ecap}:${cap}` }, 'fuzz', problems as never);
      assert.ok(Array.isArray(a.features));
      for (const p of problems) assert.equal(typeof p.message, 'string');
    }),
    RUNS,
  );
});

test('fuzz decodeFaultRecords: any bytes of a whole number of records decode, one record each', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 16 }), fc.integer(), (n, seed) => {
      const a = new Uint8Array(n * FAULT_RECORD_BYTES);
      let x = seed >>> 0;
      for (let i = 0; i < a.length; i++) a[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      const recs = decodeFaultRecords(a.buffer);
      assert.equal(recs.length, n);
    }),
    RUNS,
  );
});

/** Only the grammar's own error: anything else is a bug in the parser. */
function onlyGrammarErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GrammarError, `not a GrammarError: ${String(err)}`);
    assert.ok(err.message.length > 0);
  }
}

const grammarWords = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('count', 'rate', 'pasids', 'devices', 'group', 'perm', 'outstanding', 'x'),
        fc.oneof(fc.nat().map(String), fc.string({ maxLength: 8 }), fc.constant('1-4')),
      ),
      { maxLength: 6 },
    )
    .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(',')),
);

test('fuzz parseInject: any text parses or is a GrammarError; results are in range', () => {
  fc.assert(
    fc.property(grammarWords, (text) =>
      onlyGrammarErrors(() => {
        const s = parseInject(text);
        assert.ok(Number.isSafeInteger(s.count) && s.count >= 1);
        assert.ok(s.devices >= 1 && s.devices <= 4096, 'devices in the grammar range');
        assert.ok(s.groupPages >= 1 && s.groupPages <= 512, 'group pages in the grammar range');
      }),
    ),
    RUNS,
  );
});

// Well-formed specs with values around every bound: most parse, so a widened
// or dropped range check shows up (the free-text property above rarely parses).
const boundedKeys = {
  devices: [1, 4096],
  group: [1, 512],
  outstanding: [1, 1 << 24],
} as const;
const nearBounds = fc.oneof(
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: (1 << 24) - 3, max: (1 << 24) + 3 }),
);

test('fuzz parseInject (well-formed keys near their bounds): accepted only in range', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.uniqueArray(
        fc.constantFrom(...(Object.keys(boundedKeys) as (keyof typeof boundedKeys)[])),
        {
          minLength: 1,
        },
      ),
      fc.array(nearBounds, { minLength: 3, maxLength: 3 }),
      fc.oneof(fc.constant('0'), fc.constant('0.0009'), fc.constant('0.001'), fc.nat().map(String)),
      (count, keys, values, rate) => {
        const text = [
          `count=${count}`,
          `rate=${rate}`,
          ...keys.map((k, i) => `${k}=${values[i]}`),
        ].join(',');
        const inRange =
          keys.every(
            (k, i) => values[i]! >= boundedKeys[k][0] && values[i]! <= boundedKeys[k][1],
          ) &&
          rate !== '0.0009' &&
          Number(rate) <= 100_000_000;
        let parsed = true;
        try {
          parseInject(text);
        } catch (err) {
          assert.ok(err instanceof GrammarError, String(err));
          parsed = false;
        }
        assert.equal(parsed, inRange, text);
      },
    ),
    RUNS,
  );
});

const policyWords = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom('delay=', 'delay=1', 'success', 'hold', 'map'),
      fc.string({ maxLength: 12 }),
    )
    .map(([a, b]) => a + b),
);

test('fuzz parsePolicy: any word parses or is a GrammarError', () => {
  fc.assert(
    fc.property(policyWords, (w) => onlyGrammarErrors(() => parsePolicy(w))),
    RUNS,
  );
});

test('fuzz parsePolicyRules: any JSON value parses or is a GrammarError', () => {
  const rule = fc.record(
    {
      dev: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
      pasid: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
      addr: fc.string({ maxLength: 24 }),
      perm: fc.string({ maxLength: 4 }),
      notPerm: fc.string({ maxLength: 4 }),
      action: policyWords,
    },
    { requiredKeys: [] },
  );
  const doc = fc.oneof(
    fc.jsonValue(),
    fc.record(
      { rules: fc.array(rule, { maxLength: 4 }), default: policyWords },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(doc, (json) => onlyGrammarErrors(() => parsePolicyRules(json, 'fuzz'))),
    RUNS,
  );
});

test('fuzz WebSocket dispatch: any text gets one envelope; handlers only see valid params', async () => {
  const names = Object.keys(requests) as (keyof typeof requests)[];
  const handlers = Object.fromEntries(
    names.map((name) => [
      name,
      async (params: unknown) => {
        // What reached the handler must satisfy its own schema.
        validate(requests[name].params, params, 'params');
        return { ok: true };
      },
    ]),
  ) as unknown as Handlers;
  const ctx: RequestContext = { client: 'fuzz', emit: () => {} };
  const message = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc
      .record({
        id: fc.oneof(fc.nat(), fc.integer(), fc.string({ maxLength: 3 })),
        method: fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })),
        params: fc.jsonValue(),
      })
      .map((o) => JSON.stringify(o)),
  );
  await fc.assert(
    fc.asyncProperty(message, async (text) => {
      const r = await dispatchText(handlers, text, ctx);
      assert.equal(typeof r.id, 'number');
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok)
        assert.notEqual(
          r.error.code,
          'EINTERNAL',
          `handler got invalid params: ${r.error.message}`,
        );
    }),
    RUNS,
  );
});

test('fuzz escapeForTerminal: the output never holds a control character, and is idempotent on safe text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
      const out = escapeForTerminal(s);
      // eslint-disable-next-line no-control-regex -- exactly what must not come out
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(out));
      assert.equal(escapeForTerminal(out), out);
    }),
    RUNS,
  );
});

test('fuzz editDistance: a metric (zero on equal, symmetric, bounded by the longer length)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
      const d = editDistance(a, b);
      assert.equal(d === 0, a === b);
      assert.equal(d, editDistance(b, a));
      assert.ok(d <= Math.max(a.length, b.length));
    }),
    RUNS,
  );
});
