// Embedded mode: run the sandbox-agent binary as a child of this Node
// process. The only module of the SDK that uses Node APIs; the client loads
// it lazily, and it loads the Node modules lazily too, so bundles for
// browsers, Deno or workers never need them.
import type { ChildProcess } from "node:child_process";

/**
 * The embedded server's process: the parts of Node's ChildProcess the SDK
 * promises (typed here so that the SDK's declarations need no Node types).
 */
export interface SandboxAgentProcess {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  kill(signal?: number | "SIGTERM" | "SIGKILL" | "SIGINT"): boolean;
  /** The server's log, when spawned with `log: "pipe"` (text chunks). */
  readonly stderr: { on(event: "data", listener: (chunk: string) => void): unknown } | null;
}

/** Where the server's own log output goes. */
export type SandboxAgentSpawnLogMode = "inherit" | "pipe" | "silent";

/** How `SandboxAgent.start()` runs the server. */
export interface SandboxAgentSpawnOptions {
  /** `false` refuses to spawn (`start` then throws). Default true. */
  enabled?: boolean;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on. Default: a free loopback port. */
  port?: number;
  /** Bearer token the server requires. Default: 24 random bytes, hex. */
  token?: string;
  /** The binary. Default: `SANDBOX_AGENT_BIN`, then the platform package, then `PATH`. */
  binaryPath?: string;
  /** How long to wait for the server to answer `/v1/health`. Default 15 000 ms. */
  timeoutMs?: number;
  /**
   * `inherit` (default) copies the server's log to this process's stderr,
   * `pipe` exposes it as `handle.child.stderr`, `silent` drops it. In every
   * mode the last lines are kept and shown if the server fails to start.
   */
  log?: SandboxAgentSpawnLogMode;
  /** Extra environment variables for the server (and the agents it runs). */
  env?: Record<string, string>;
  /** Extra command-line arguments for `sandbox-agent server`. */
  args?: string[];
}

/** A running embedded server. */
export interface SandboxAgentSpawnHandle {
  baseUrl: string;
  token: string;
  child: SandboxAgentProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  dispose: () => Promise<void>;
}

const platformPackages: Record<string, string> = {
  "darwin-arm64": "@sandbox-agent/cli-darwin-arm64",
  "darwin-x64": "@sandbox-agent/cli-darwin-x64",
  "linux-arm64": "@sandbox-agent/cli-linux-arm64",
  "linux-x64": "@sandbox-agent/cli-linux-x64",
  "win32-x64": "@sandbox-agent/cli-win32-x64",
};

const stderrKeep = 16 * 1024;

/** Says whether this is Node (or a runtime that provides its APIs, like Bun or Deno with node: imports). */
export function isNodeRuntime(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

/** Starts `sandbox-agent server` and waits until it answers `/v1/health`. */
export async function spawnSandboxAgent(
  options: SandboxAgentSpawnOptions,
  fetcher: typeof fetch,
): Promise<SandboxAgentSpawnHandle> {
  if (!isNodeRuntime()) {
    throw new Error("SandboxAgent.start() needs Node.js (or Bun/Deno); use SandboxAgent.connect() here.");
  }
  const binary = options.binaryPath ?? (await findBinary());
  if (!binary) {
    throw new Error(
      "sandbox-agent binary not found: set SANDBOX_AGENT_BIN, pass spawn.binaryPath, install @sandbox-agent/cli, or put sandbox-agent on PATH.",
    );
  }
  const args = options.args ?? [];
  const level = args.findIndex((a) => a === "--log-level" || a.startsWith("--log-level="));
  const quiet = level >= 0 && /warn|error/.test(args[level]!.includes("=") ? args[level]! : (args[level + 1] ?? ""));
  if (quiet && options.port === undefined) {
    throw new Error("spawn.args raise the server's log level above info: pass spawn.port too (the port is read from its info log)");
  }
  return run(binary, options, fetcher);
}

// run starts the server and waits until it is healthy.
async function run(
  binary: string,
  options: SandboxAgentSpawnOptions,
  fetcher: typeof fetch,
): Promise<SandboxAgentSpawnHandle> {
  const { spawn } = await import("node:child_process");
  const { randomBytes } = await import("node:crypto");
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? randomBytes(24).toString("hex");
  const timeoutMs = options.timeoutMs ?? 15_000;
  const log = options.log ?? "inherit";
  // Without a port the server binds port 0 and logs the port it got
  // ("server listening"): choosing a free port here and handing it over
  // would race with every other program binding ports meanwhile, and the
  // health check could then reach another program's server.
  const args = ["server", "--host", host, "--port", String(options.port ?? 0), ...(options.args ?? [])];

  const child = spawn(binary, args, {
    stdio: ["ignore", log === "inherit" ? "inherit" : "ignore", "pipe"],
    // The token goes by environment, not argv, where `ps` would show it;
    // the server keeps it from the agents it runs.
    env: { ...process.env, ...options.env, SANDBOX_AGENT_TOKEN: token },
  });
  const stopOnExit = stopWithProcess(child);
  // The embedded server must not keep this process alive by itself: when
  // the program is done, Node exits and the exit hook stops the server.
  child.unref();

  let tail = "";
  let port = options.port;
  const stderr = child.stderr!;
  stderr.setEncoding("utf8");
  (stderr as unknown as { unref?: () => void }).unref?.();
  stderr.on("data", (text: string) => {
    tail = (tail + text).slice(-stderrKeep);
    port ??= listeningPort(tail);
    if (log === "inherit") process.stderr.write(text);
  });
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });

  const fail = (why: string): never => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    stopOnExit.dispose();
    const output = tail.trim();
    throw new Error(`sandbox-agent (${binary}) ${why}${output ? `\n--- server stderr (tail) ---\n${output}` : ""}`);
  };

  const baseUrl = () => `http://${connectHost(host)}:${port}`;
  const deadline = Date.now() + timeoutMs;
  let lastError = "no answer yet";
  for (;;) {
    if (spawnError) fail(`could not be started: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      await settle(stderr);
      const code = child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode;
      fail(`exited before it was healthy (${code})`);
    }
    if (Date.now() > deadline) {
      fail(`did not answer /v1/health within ${timeoutMs} ms (${port === undefined ? "it logged no \"server listening\" line with its port" : lastError})`);
    }
    if (port !== undefined) {
      try {
        const res = await fetcher(`${baseUrl()}/v1/health`, { headers: { Authorization: `Bearer ${token}` } });
        await res.body?.cancel();
        if (res.ok) break;
        lastError = `status ${res.status}`;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const dispose = async () => {
    stopOnExit.dispose();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, 5_000);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await exited;
  };
  return { baseUrl: baseUrl(), token, child, dispose };
}

// listeningPort reads the port from the server's start-up log line, in the
// text (`msg="server listening" addr=127.0.0.1:2468`) or JSON form.
export function listeningPort(log: string): number | undefined {
  const m =
    /msg="?server listening"?[^\n]*?\baddr="?\S*:(\d+)/.exec(log) ??
    /"msg":"server listening"[^\n]*?"addr":"[^"]*:(\d+)"/.exec(log);
  return m ? Number(m[1]) : undefined;
}

// connectHost is the host to connect to for a listen address (a wildcard
// address is reached through loopback).
function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

// settle waits briefly for the rest of an exited child's stderr.
async function settle(stream: NodeJS.ReadableStream): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 200);
    stream.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function findBinary(): Promise<string | undefined> {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const exe = process.platform === "win32" ? "sandbox-agent.exe" : "sandbox-agent";
  const isFile = (p: string) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const fromEnv = process.env.SANDBOX_AGENT_BIN;
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    if (isFile(resolved)) return resolved;
    throw new Error(`SANDBOX_AGENT_BIN is set to ${fromEnv}, which is not a file`);
  }
  const pkg = platformPackages[`${process.platform}-${process.arch}`];
  if (pkg) {
    try {
      const { createRequire } = await import("node:module");
      const require = createRequire(path.join(process.cwd(), "index.js"));
      const candidate = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", exe);
      if (isFile(candidate)) return candidate;
    } catch {
      // the platform package is not installed
    }
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && isFile(path.join(dir, exe))) return path.join(dir, exe);
  }
  return undefined;
}

// stopWithProcess stops the child when this process exits, and when it is
// ended by SIGINT or SIGTERM (re-raising the signal afterwards when nothing
// else handles it, so the default behaviour of the signal is kept).
function stopWithProcess(child: ChildProcess): { dispose: () => void } {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    dispose();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const dispose = () => {
    process.off("exit", kill);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.on("exit", kill);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { dispose };
}
