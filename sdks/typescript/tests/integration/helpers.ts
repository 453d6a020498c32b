import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { inject } from "vitest";
import { SandboxAgent, type SandboxAgentSpawnOptions, type UniversalEvent } from "../../src/index.js";

/** Starts the real server binary in embedded mode. */
export function startServer(spawn: SandboxAgentSpawnOptions = {}): Promise<SandboxAgent> {
  return SandboxAgent.start({ spawn: { binaryPath: inject("binary"), log: "silent", ...spawn } });
}

let ids = 0;
/** A session id unique within the test process. */
export function sessionId(prefix = "s"): string {
  return `${prefix}-${process.pid}-${++ids}`;
}

/** Collects events until one of the given type (included) or the end. */
export async function until(it: AsyncIterable<UniversalEvent>, type?: string): Promise<UniversalEvent[]> {
  const out: UniversalEvent[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (ev.type === type) break;
  }
  return out;
}

/** The text of an item.completed event's content. */
export function textOf(ev: UniversalEvent): string {
  const item = (ev.data as { item?: { content?: { type: string; text?: string }[] | null } }).item;
  return (item?.content ?? [])
    .filter((p) => p.type === "text")
    .map((p) => p.text)
    .join("");
}

/**
 * A TCP proxy in front of the server that can cut every open connection,
 * as a network failure would: the client sees its stream break mid-way.
 */
export class CuttingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private constructor(server: Server) {
    this.server = server;
  }

  /** Listens on a free loopback port and forwards to target (http://host:port). */
  static async start(target: string): Promise<CuttingProxy> {
    const { hostname, port } = new URL(target);
    let proxy!: CuttingProxy;
    const server = createServer((inbound) => {
      const outbound = connect(Number(port), hostname);
      for (const s of [inbound, outbound]) {
        proxy.sockets.add(s);
        s.on("close", () => proxy.sockets.delete(s));
        s.on("error", () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    proxy = new CuttingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Destroys every open connection (both sides), dropping data in flight; returns how many. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return n;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
