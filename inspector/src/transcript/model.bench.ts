// Folding cost of the transcript model (npx vitest bench --run): a long
// streamed message, and the mock demo's whole log.
import type { UniversalEvent } from "sandbox-agent";
import { bench, describe } from "vitest";
import { loadFixtures } from "../test/fixtures";
import { Transcript } from "./model";

const ev = (sequence: number, type: string, data: unknown) =>
  ({ event_id: `evt_${sequence}`, sequence, time: "2026-01-01T00:00:00.000000000Z", session_id: "s", native_session_id: null, synthetic: false, source: "agent", type, data, raw: null }) as UniversalEvent;

const item = { item_id: "itm_1", native_item_id: null, parent_id: null, kind: "message", role: "assistant", status: "in_progress", content: [] };
const deltas = [ev(1, "item.started", { item })];
for (let i = 2; i <= 100_001; i++) deltas.push(ev(i, "item.delta", { item_id: "itm_1", native_item_id: null, delta: "word " }));

// Needs the fixtures: run the tests (npx vitest run) first.
const demo = loadFixtures()["mock-demo"] ?? [];

describe("Transcript.add", () => {
  bench("100k deltas of one message, in batches of 100", () => {
    const t = new Transcript();
    for (let i = 0; i < deltas.length; i += 100) t.add(deltas.slice(i, i + 100));
  });
  bench("the mock demo's log (79 events)", () => {
    new Transcript().add(demo);
  });
});
