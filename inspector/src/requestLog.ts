// The request log: every HTTP call the inspector makes, with what a person
// needs to repeat it (copy as curl). The SDK takes this fetch as its own.

export interface RequestEntry {
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
  status?: number;
  error?: string;
  startedAt: number;
  durationMs?: number;
  /** The response is an event stream (still open, or closed). */
  stream: boolean;
}

type Listener = () => void;

export class RequestLog {
  private next = 1;
  entries: RequestEntry[] = [];
  private listeners = new Set<Listener>();
  constructor(private readonly limit = 500) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  clear(): void {
    this.entries = [];
    this.emit();
  }

  /** Wraps a fetch so that every call through it is logged. */
  wrap(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const req = new Request(input, init);
      const entry: RequestEntry = {
        id: this.next++,
        method: req.method,
        url: req.url,
        headers: [...req.headers.entries()],
        body: typeof init?.body === "string" ? init.body : init?.body != null ? "<binary body>" : undefined,
        startedAt: Date.now(),
        stream: (req.headers.get("accept") ?? "").includes("text/event-stream"),
      };
      this.entries = [...this.entries.slice(-(this.limit - 1)), entry];
      this.emit();
      const update = (patch: Partial<RequestEntry>) => {
        this.entries = this.entries.map((e) => (e.id === entry.id ? { ...e, ...patch } : e));
        this.emit();
      };
      try {
        const res = await inner(input, init);
        update({ status: res.status, durationMs: Date.now() - entry.startedAt });
        return res;
      } catch (e) {
        const aborted = e instanceof DOMException && e.name === "AbortError";
        update({ error: aborted ? "aborted" : String(e), durationMs: Date.now() - entry.startedAt });
        throw e;
      }
    };
  }
}

// shellQuote quotes one argument for a POSIX shell.
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The request as a curl command line (the token is kept: it is the user's). */
export function toCurl(e: Pick<RequestEntry, "method" | "url" | "headers" | "body" | "stream">): string {
  const args = ["curl"];
  if (e.stream) args.push("-N");
  if (e.method !== "GET") args.push("-X", e.method);
  for (const [k, v] of e.headers) args.push("-H", shellQuote(`${k}: ${v}`));
  if (e.body !== undefined) args.push("--data-raw", shellQuote(e.body));
  args.push(shellQuote(e.url));
  return args.join(" ");
}
