// Builds the server binary from this tree once for all integration tests,
// unless SANDBOX_AGENT_BIN already names one (CI builds it first).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    binary: string;
  }
}

export default function setup(project: TestProject) {
  let binary = process.env.SANDBOX_AGENT_BIN;
  if (binary) {
    binary = resolve(binary);
    if (!existsSync(binary)) throw new Error(`SANDBOX_AGENT_BIN=${binary} does not exist`);
  } else {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
    binary = join(root, "sdks/typescript/node_modules/.cache/sandbox-agent/sandbox-agent");
    mkdirSync(dirname(binary), { recursive: true });
    execFileSync("go", ["build", "-o", binary, "./cmd/sandbox-agent"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, CGO_ENABLED: "0" },
    });
  }
  project.provide("binary", binary);
}
