// The transcript renderer over recorded event sequences: the Claude Code
// and Codex captures and the mock demo, made universal by the real
// converters and session pipeline (inspector/fixtures_test.go writes them
// before the tests run; see src/test/globalSetup.ts).
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import type { UniversalEvent } from "sandbox-agent";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadFixtures } from "../test/fixtures";
import { Transcript as Model } from "./model";
import { captionOf, Transcript, type TranscriptActions } from "./Transcript";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const fixtures = loadFixtures();
// Every capture is there (a missing one would shrink what is tested).
expect(Object.keys(fixtures).filter((n) => n.startsWith("claude-")).length).toBeGreaterThanOrEqual(15);
expect(Object.keys(fixtures).filter((n) => n.startsWith("codex-")).length).toBeGreaterThanOrEqual(15);

let root: Root | undefined;
let host: HTMLDivElement | undefined;
afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
  root = undefined;
});

function render(model: Model, actions?: TranscriptActions): HTMLDivElement {
  host = document.createElement("div");
  document.body.appendChild(host);
  const r = createRoot(host);
  root = r;
  act(() => r.render(<Transcript model={model} version={model.version} actions={actions} />));
  return host;
}

function rerender(model: Model, actions?: TranscriptActions): void {
  act(() => root?.render(<Transcript model={model} version={model.version} actions={actions} />));
}

function fold(events: UniversalEvent[]): Model {
  const m = new Model();
  m.add(events);
  return m;
}

type Item = { item_id: string; parent_id: string | null; kind: string; role: string | null; status: string; content: Record<string, unknown>[] };

// The last snapshot of every item of a sequence.
function finalItems(events: UniversalEvent[]): Map<string, Item> {
  const items = new Map<string, Item>();
  for (const e of events) {
    if (e.type === "item.started" || e.type === "item.completed") {
      const it = (e.data as { item: Item }).item;
      items.set(it.item_id, it);
    }
  }
  return items;
}

const norm = (s: string | null | undefined) => (s ?? "").replace(/\s+/g, " ");

describe.each(Object.keys(fixtures))("%s", (name) => {
  const events = fixtures[name]!;

  it("renders every item, nested under its parent, with its content", () => {
    const div = render(fold(events));
    const items = finalItems(events);
    expect(div.querySelector("[data-testid=transcript]")).not.toBeNull();
    for (const it of items.values()) {
      const card = div.querySelector<HTMLElement>(`[data-item-id="${it.item_id}"]`);
      expect(card, `item ${it.item_id} (${it.kind})`).not.toBeNull();
      expect(card!.dataset.kind).toBe(it.kind);
      if (it.parent_id && items.has(it.parent_id)) {
        // Nested inside its parent's card, not beside it.
        expect(card!.parentElement?.closest(`[data-item-id]`)?.getAttribute("data-item-id")).toBe(it.parent_id);
      }
      const text = norm(card!.textContent);
      for (const part of it.content) {
        switch (part.type) {
          case "text":
          case "reasoning": {
            // Each word of the first line survives markdown rendering.
            const first = String(part.text).split("\n").find((l) => l.trim()) ?? "";
            for (const w of first.match(/[A-Za-z0-9]{4,}/g) ?? []) expect(text, `${it.item_id} text`).toContain(w);
            break;
          }
          case "tool_call":
            expect(text).toContain(String(part.name));
            break;
          case "tool_result": {
            const first = String(part.output).split("\n").find((l) => l.trim()) ?? "";
            expect(text).toContain(norm(first).trim().slice(0, 40));
            break;
          }
          case "file_ref":
            expect(text).toContain(String(part.path));
            if (typeof part.diff === "string" && part.diff) expect(card!.querySelector(".diff")).not.toBeNull();
            break;
          case "image":
            expect(text).toContain(captionOf(String(part.path)));
            break;
          case "status":
            expect(text).toContain(String(part.label));
            break;
        }
      }
    }
  });

  it("shows requests with their final state, errors and turn boundaries", () => {
    const div = render(fold(events));
    const finalState = new Map<string, string>();
    for (const e of events) {
      const d = e.data as { permission_id?: string; question_id?: string; status?: string };
      if (e.type.startsWith("permission.")) finalState.set(`permission:${d.permission_id}`, d.status!);
      if (e.type.startsWith("question.")) finalState.set(`question:${d.question_id}`, d.status!);
    }
    for (const [key, status] of finalState) {
      const [kind, id] = key.split(/:(.*)/s) as [string, string];
      const card = [...div.querySelectorAll<HTMLElement>(`[data-kind=${kind}]`)].find((c) => c.dataset.id === id);
      expect(card, key).toBeDefined();
      expect(card!.dataset.status).toBe(status);
    }
    const errors = events.filter((e) => e.type === "error");
    const errorCards = div.querySelectorAll("[data-kind=error]");
    expect(errorCards.length).toBe(errors.length);
    errors.forEach((e, i) => expect(norm(errorCards[i]!.textContent)).toContain(norm((e.data as { message: string }).message).trim()));
    expect(div.querySelectorAll("[data-kind=turn-started]").length).toBe(events.filter((e) => e.type === "turn.started").length);
    expect(div.querySelectorAll("[data-kind=turn-ended]").length).toBe(events.filter((e) => e.type === "turn.ended").length);
    expect(div.querySelectorAll("[data-kind='agent.unparsed']").length).toBe(events.filter((e) => e.type === "agent.unparsed").length);
    // Without actions (an ended session) nothing offers to answer.
    expect(div.querySelector(".actions button")).toBeNull();
  });

  it("renders the same whether the events arrive at once or one by one", () => {
    const whole = render(fold(events)).innerHTML;
    act(() => root?.unmount());
    host?.remove();
    const m = new Model();
    render(m);
    for (const e of events) {
      m.add([e]);
      rerender(m);
    }
    expect(host!.innerHTML).toBe(whole);
  });
});

describe("Claude captures", () => {
  it("nests a sub-agent's work under its Agent tool call", () => {
    const div = render(fold(fixtures["claude-subagent"]!));
    const agentCall = [...div.querySelectorAll<HTMLElement>("[data-kind=tool_call]")].find((c) => c.querySelector(".tool-name")?.textContent === "Agent");
    expect(agentCall).toBeDefined();
    const nested = [...agentCall!.querySelectorAll(".tool-name")].map((n) => n.textContent);
    expect(nested).toEqual(expect.arrayContaining(["Bash", "Write"]));
  });

  it("names the call a tool result answers", () => {
    const div = render(fold(fixtures["claude-bash-permission"]!));
    const result = div.querySelector("[data-kind=tool_result]");
    expect(result?.querySelector(".tool-ref")?.textContent).toBe("Bash");
  });

  it("shows thinking as collapsible reasoning", () => {
    const div = render(fold(fixtures["claude-thinking"]!));
    const reasoning = div.querySelectorAll("details[data-part=reasoning]");
    expect(reasoning.length).toBeGreaterThan(0);
    expect(reasoning[0]!.querySelector("summary")?.textContent).toMatch(/^Reasoning/);
  });

  it("shows a plan approval with its plan, and the turn's duration and tokens", () => {
    const div = render(fold(fixtures["claude-plan-accept"]!));
    const plan = div.querySelector("[data-kind=question].plan");
    expect(plan?.textContent).toContain("plan approval");
    expect(plan?.querySelector(".plan-body")?.textContent).toContain("Write plan.txt with the steps.");
    expect(div.querySelector("[data-testid=turn-duration]")).not.toBeNull();
    expect(div.querySelector("[data-testid=turn-usage]")?.textContent).toMatch(/\d+ in \/ \d+ out tokens/);
  });

  it("asks a multi-select question with checkboxes and sends every choice", async () => {
    const evs = fixtures["claude-questions"]!;
    const upto = evs.findIndex((e) => e.type === "question.resolved");
    const replyQuestion = vi.fn(async () => {});
    const actions: TranscriptActions = { replyPermission: vi.fn(async () => {}), replyQuestion, rejectQuestion: vi.fn(async () => {}) };
    const div = render(fold(evs.slice(0, upto)), actions);
    const [single, multi] = [...div.querySelectorAll<HTMLElement>("[data-kind=question]")];
    expect(single!.querySelectorAll("input[type=radio]").length).toBe(2);
    expect(multi!.querySelectorAll("input[type=checkbox]").length).toBe(3);
    const boxes = multi!.querySelectorAll<HTMLInputElement>("input[type=checkbox]");
    act(() => boxes[0]!.click());
    act(() => boxes[2]!.click());
    await act(async () => multi!.querySelector<HTMLButtonElement>("button[type=submit]")!.click());
    expect(replyQuestion).toHaveBeenCalledWith(multi!.dataset.id, [["S", "L"]]);
  });

  it("approves a plan with one button", async () => {
    const evs = fixtures["claude-plan-accept"]!;
    const upto = evs.findIndex((e) => e.type === "question.resolved");
    const replyQuestion = vi.fn(async () => {});
    const div = render(fold(evs.slice(0, upto)), { replyPermission: vi.fn(), replyQuestion, rejectQuestion: vi.fn() });
    const card = div.querySelector<HTMLElement>("[data-kind=question].plan")!;
    const approve = [...card.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Approve plan")!;
    await act(async () => approve.click());
    expect(replyQuestion).toHaveBeenCalledWith(card.dataset.id, [["approve"]]);
  });

  it("answers a pending permission: once, always or reject", async () => {
    const evs = fixtures["claude-bash-permission"]!;
    const upto = evs.findIndex((e) => e.type === "permission.resolved");
    const replyPermission = vi.fn(async () => {});
    const div = render(fold(evs.slice(0, upto)), { replyPermission, replyQuestion: vi.fn(), rejectQuestion: vi.fn() });
    const card = div.querySelector<HTMLElement>("[data-kind=permission][data-status=requested]")!;
    expect(card.textContent).toContain("touch made-by-bash.txt");
    const always = [...card.querySelectorAll("button")].find((b) => b.textContent === "Always allow")!;
    await act(async () => always.click());
    expect(replyPermission).toHaveBeenCalledWith(card.dataset.id, "always");
  });
});

it("shows an image sent as a data URL, captioned short", () => {
  const ev = (sequence: number, type: string, data: unknown) =>
    ({ event_id: String(sequence), sequence, time: "2026-01-01T00:00:00.000000000Z", session_id: "s", native_session_id: null, synthetic: false, source: "agent", type, data, raw: null }) as UniversalEvent;
  const url = `data:image/png;base64,${"A".repeat(400)}`;
  const item = { item_id: "itm_1", native_item_id: null, parent_id: null, kind: "message", role: "user", status: "completed", content: [{ type: "image", path: url, mime: "image/png" }] };
  const div = render(fold([ev(1, "item.started", { item }), ev(2, "item.completed", { item })]));
  expect(div.querySelector("img")?.getAttribute("src")).toBe(url);
  expect(div.querySelector("figcaption code")?.textContent).toBe("data:image/png;base64,… (400 chars)");
});

describe("streaming", () => {
  it("shows deltas as they arrive, then the completed item", () => {
    const evs = fixtures["mock-demo"]!;
    const deltas = evs.filter((e) => e.type === "item.delta" && (e.data as { delta: string }).delta.startsWith("# Mock markdown"));
    expect(deltas.length).toBe(1);
    const at = evs.indexOf(deltas[0]!);
    const m = fold(evs.slice(0, at + 1));
    const div = render(m);
    const id = (deltas[0]!.data as { item_id: string }).item_id;
    const card = () => div.querySelector<HTMLElement>(`[data-item-id="${id}"]`)!;
    expect(card().classList.contains("in-progress")).toBe(true);
    expect(card().querySelector(".live h1")?.textContent).toBe("Mock markdown");
    expect(card().textContent).not.toContain("Rendering markdown...");
    const done = evs.findIndex((e, i) => i > at && e.type === "item.completed" && (e.data as { item: Item }).item.item_id === id);
    m.add(evs.slice(at + 1, done + 1));
    rerender(m);
    expect(card().classList.contains("in-progress")).toBe(false);
    expect(card().querySelector(".md table")).not.toBeNull();
    expect(card().textContent).toContain("End of the mock markdown document.");
  });

  it("shows a running tool's streamed output as output, not markdown", () => {
    const ev = (sequence: number, type: string, data: unknown) =>
      ({ event_id: String(sequence), sequence, time: "2026-01-01T00:00:00.000000000Z", session_id: "s", native_session_id: null, synthetic: false, source: "agent", type, data, raw: null }) as UniversalEvent;
    const item = { item_id: "itm_1", native_item_id: "c1", parent_id: null, kind: "tool_result", role: "tool", status: "in_progress", content: [{ type: "tool_result", call_id: "c1", output: "" }] };
    const m = fold([ev(1, "item.started", { item }), ev(2, "item.delta", { item_id: "itm_1", native_item_id: "c1", delta: "# not a heading\n" }), ev(3, "item.delta", { item_id: "itm_1", native_item_id: "c1", delta: "line 2\n" })]);
    const div = render(m);
    expect(div.querySelector("pre[data-part=output]")?.textContent).toBe("# not a heading\nline 2\n");
    expect(div.querySelector("h1")).toBeNull();
  });

  it("streams a Codex command's output into its running tool result", () => {
    const evs = fixtures["codex-codex-command-output"]!;
    const lastDelta = evs.map((e) => e.type === "item.delta" && (e.data as { delta: string }).delta.startsWith("line-")).lastIndexOf(true);
    const m = fold(evs.slice(0, lastDelta + 1));
    const div = render(m);
    const id = (evs[lastDelta]!.data as { item_id: string }).item_id;
    const card = div.querySelector<HTMLElement>(`[data-item-id="${id}"]`)!;
    expect(card.dataset.kind).toBe("tool_result");
    expect(card.querySelector("pre[data-part=output]")?.textContent).toBe("line-2\nline-3\n");
    m.add(evs);
    rerender(m);
    expect(card.dataset.status).toBe("failed");
    expect(card.querySelector(".part-tool-result .output")?.textContent).toBe("line-1\nline-2\nline-3\n");
  });

  it("knows when a turn runs and what waits for a reply", () => {
    const evs = fixtures["mock-demo"]!;
    const m = new Model();
    const firstPerm = evs.findIndex((e) => e.type === "permission.requested");
    m.add(evs.slice(0, firstPerm + 2));
    expect(m.running).toBe(true);
    expect(m.pending).toBe(2);
    m.add(evs);
    expect(m.running).toBe(false);
    expect(m.pending).toBe(0);
    expect(m.ended).toBe(true);
  });
});
