// The transcript model: a session's universal events folded into what the
// renderer shows. Pure and incremental: add() takes the events that arrived
// since the last call, so a long stream of deltas costs linear work. Every
// view object that changes gets a new revision, so memoised components
// re-render only what changed.
import type {
  ErrorData,
  ItemDeltaData,
  ItemEventData,
  PermissionEventData,
  QuestionEventData,
  SessionEndedData,
  TurnEventData,
  UniversalEvent,
  UniversalItem,
} from "sandbox-agent";

/** One item as it stands: its latest snapshot plus the text streamed so far. */
export interface ItemView {
  id: string;
  item: UniversalItem;
  /** Text from item.delta events, shown while the item is in progress. */
  streamed: string;
  completed: boolean;
  /** Item ids nested under this one (sub-agent work, tool calls of a message). */
  children: string[];
  rev: number;
}

/** A permission or question request and, once answered, its resolution. */
export interface RequestView<T> {
  id: string;
  request: T;
  resolved?: T;
  rev: number;
}

export type PermissionView = RequestView<PermissionEventData>;
export type QuestionView = RequestView<QuestionEventData>;

export interface TurnUsage {
  input?: number;
  output?: number;
  total?: number;
}

/** A top-level row of the transcript, in event order. */
export type Entry =
  | { kind: "item"; id: string }
  | { kind: "permission"; id: string }
  | { kind: "question"; id: string }
  | { kind: "turn-started"; seq: number; turn: number; turnId?: string }
  | { kind: "turn-ended"; seq: number; turn: number; durationMs?: number; usage?: TurnUsage; status?: string }
  | { kind: "session-started"; seq: number }
  | { kind: "session-ended"; seq: number; data: SessionEndedData }
  | { kind: "error"; seq: number; data: ErrorData }
  | { kind: "unparsed"; seq: number; event: UniversalEvent }
  | { kind: "other"; seq: number; event: UniversalEvent };

export class Transcript {
  readonly entries: Entry[] = [];
  readonly items = new Map<string, ItemView>();
  readonly permissions = new Map<string, PermissionView>();
  readonly questions = new Map<string, QuestionView>();
  /** Tool names by call id, so a result can say which call it answers. */
  readonly toolNames = new Map<string, string>();
  /** A turn is running (started and not yet ended). */
  running = false;
  ended = false;
  lastSequence = 0;
  /** Bumped by every add() that changed anything. */
  version = 0;
  private turns = 0;
  private turnStartedAt?: number;

  /** Folds events in; events already seen (by sequence) are skipped. */
  add(events: readonly UniversalEvent[]): void {
    let changed = false;
    for (const ev of events) {
      if (ev.sequence <= this.lastSequence) continue;
      this.lastSequence = ev.sequence;
      this.apply(ev);
      changed = true;
    }
    if (changed) this.version++;
  }

  /** Permission and question requests still waiting for a reply. */
  get pending(): number {
    let n = 0;
    for (const p of this.permissions.values()) if (!p.resolved) n++;
    for (const q of this.questions.values()) if (!q.resolved) n++;
    return n;
  }

  private apply(ev: UniversalEvent): void {
    const seq = ev.sequence;
    switch (ev.type) {
      case "session.started":
        this.entries.push({ kind: "session-started", seq });
        return;
      case "session.ended":
        this.ended = true;
        this.running = false;
        this.entries.push({ kind: "session-ended", seq, data: ev.data as SessionEndedData });
        return;
      case "turn.started": {
        const d = ev.data as TurnEventData;
        this.running = true;
        this.turns++;
        this.turnStartedAt = Date.parse(ev.time);
        this.entries.push({ kind: "turn-started", seq, turn: this.turns, turnId: d?.turn_id ?? undefined });
        return;
      }
      case "turn.ended": {
        const meta = ((ev.data as TurnEventData)?.metadata ?? {}) as Record<string, unknown>;
        const elapsed = this.turnStartedAt === undefined ? undefined : Date.parse(ev.time) - this.turnStartedAt;
        this.running = false;
        this.turnStartedAt = undefined;
        this.entries.push({
          kind: "turn-ended",
          seq,
          turn: this.turns,
          durationMs: num(meta.durationMs) ?? (elapsed !== undefined && !Number.isNaN(elapsed) ? elapsed : undefined),
          usage: usageOf(meta.usage),
          status: str(meta.status) ?? str(meta.terminalReason),
        });
        return;
      }
      case "item.started":
      case "item.completed":
        this.item((ev.data as ItemEventData).item, ev.type === "item.completed");
        return;
      case "item.delta": {
        const d = ev.data as ItemDeltaData;
        const view = this.items.get(d.item_id);
        if (!view) return;
        view.streamed += d.delta;
        view.rev++;
        this.bubble(view);
        return;
      }
      case "permission.requested":
      case "permission.resolved": {
        const d = ev.data as PermissionEventData;
        this.request(this.permissions, "permission", d.permission_id, d, ev.type === "permission.requested");
        return;
      }
      case "question.requested":
      case "question.resolved": {
        const d = ev.data as QuestionEventData;
        this.request(this.questions, "question", d.question_id, d, ev.type === "question.requested");
        return;
      }
      case "error":
        this.entries.push({ kind: "error", seq, data: ev.data as ErrorData });
        return;
      case "agent.unparsed":
        this.entries.push({ kind: "unparsed", seq, event: ev });
        return;
      default:
        this.entries.push({ kind: "other", seq, event: ev });
    }
  }

  // request records a permission or question request, or its resolution.
  private request<T>(views: Map<string, RequestView<T>>, kind: "permission" | "question", id: string, data: T, requested: boolean): void {
    const view = views.get(id);
    if (view && !requested) {
      view.resolved = data;
      view.rev++;
      return;
    }
    if (view) return; // a repeated request
    // A resolution without its request: the request came before the first
    // event read.
    views.set(id, { id, request: data, resolved: requested ? undefined : data, rev: 0 });
    this.entries.push({ kind, id });
  }

  private item(item: UniversalItem, completed: boolean): void {
    for (const p of item.content ?? []) {
      if (p.type === "tool_call" && typeof p.call_id === "string" && typeof p.name === "string") this.toolNames.set(p.call_id, p.name);
    }
    const existing = this.items.get(item.item_id);
    if (existing) {
      existing.item = item;
      existing.completed = existing.completed || completed;
      existing.rev++;
      this.bubble(existing);
      return;
    }
    const view: ItemView = { id: item.item_id, item, streamed: "", completed, children: [], rev: 0 };
    this.items.set(item.item_id, view);
    const parent = item.parent_id ? this.items.get(item.parent_id) : undefined;
    if (parent) {
      parent.children.push(view.id);
      parent.rev++;
      this.bubble(parent);
    } else {
      this.entries.push({ kind: "item", id: view.id });
    }
  }

  // bubble marks the ancestors of a changed item changed too, so that a
  // memoised parent re-renders its nested children.
  private bubble(view: ItemView): void {
    let parentId = view.item.parent_id;
    for (let depth = 0; parentId && depth < 64; depth++) {
      const parent = this.items.get(parentId);
      if (!parent) return;
      parent.rev++;
      parentId = parent.item.parent_id;
    }
  }
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

// usageOf reads token counts from the shapes agents report: snake_case
// (Claude: input_tokens, output_tokens) and camelCase, possibly under
// `total` (Codex: total.inputTokens).
export function usageOf(v: unknown): TurnUsage | undefined {
  if (!v || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  if (o.total && typeof o.total === "object") return usageOf(o.total);
  const input = num(o.input_tokens) ?? num(o.inputTokens);
  const output = num(o.output_tokens) ?? num(o.outputTokens);
  const total = num(o.total_tokens) ?? num(o.totalTokens) ?? (input !== undefined && output !== undefined ? input + output : undefined);
  if (input === undefined && output === undefined && total === undefined) return undefined;
  return { input, output, total };
}
