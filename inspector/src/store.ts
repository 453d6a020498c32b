// Per-session event caches. The open session's events arrive over SSE; the
// others are polled in small pages when the session list says they grew, so
// the sidebar can badge a session that waits for a reply without the user
// opening it.
import { useSyncExternalStore } from "react";
import type { SandboxAgent, UniversalEvent } from "sandbox-agent";
import { Transcript } from "./transcript/model";

export class SessionData {
  events: UniversalEvent[] = [];
  transcript = new Transcript();
  version = 0;
  private listeners = new Set<() => void>();

  constructor(readonly id: string, readonly includeRaw: boolean) {}

  get lastSequence(): number {
    return this.transcript.lastSequence;
  }

  add(evs: readonly UniversalEvent[]): void {
    const fresh = evs.filter((e) => e.sequence > this.transcript.lastSequence);
    if (fresh.length === 0) return;
    this.events.push(...fresh);
    this.transcript.add(fresh);
    this.version++;
    for (const fn of this.listeners) fn();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;
}

/** Re-renders the caller whenever the session's events change. */
export function useSessionVersion(data: SessionData | undefined): number {
  return useSyncExternalStore(data?.subscribe ?? noopSubscribe, data?.getVersion ?? zero);
}

const noopSubscribe = () => () => {};
const zero = () => 0;

export class SessionCache {
  private byId = new Map<string, SessionData>();

  get(id: string, includeRaw = false): SessionData {
    let d = this.byId.get(id);
    if (!d || d.includeRaw !== includeRaw) {
      d = new SessionData(id, includeRaw);
      this.byId.set(id, d);
    }
    return d;
  }

  peek(id: string): SessionData | undefined {
    return this.byId.get(id);
  }

  drop(id: string): void {
    this.byId.delete(id);
  }

  /** Reads the events of a session that arrived since the cache last saw it. */
  async poll(client: SandboxAgent, id: string, eventCount: number): Promise<void> {
    const d = this.peek(id) ?? this.get(id);
    // A session's sequences count from 1 with no gaps, so its event count
    // says whether there is anything new.
    while (d.lastSequence < eventCount) {
      const page = await client.getEvents(id, { offset: d.lastSequence, limit: 500, includeRaw: d.includeRaw });
      if (page.events.length === 0) return;
      d.add(page.events);
      if (!page.hasMore) return;
    }
  }
}

/**
 * Streams a session's events into its cache until the signal aborts. The
 * SDK resumes after dropped connections without loss.
 */
export async function follow(client: SandboxAgent, data: SessionData, signal: AbortSignal, onError: (e: unknown) => void): Promise<void> {
  try {
    const stream = client.streamEvents(data.id, { offset: data.lastSequence, includeRaw: data.includeRaw }, signal);
    let batch: UniversalEvent[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const b = batch;
      batch = [];
      data.add(b);
    };
    for await (const ev of stream) {
      batch.push(ev);
      // One render per animation frame however fast deltas arrive.
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(flush);
      }
    }
    flush();
  } catch (e) {
    if (!signal.aborted) onError(e);
  }
}
