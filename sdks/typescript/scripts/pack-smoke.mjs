#!/usr/bin/env node
// Packs the SDK with `npm pack`, installs the tarball into an empty project
// and runs an example from it as ESM and as CommonJS against the real
// binary (SANDBOX_AGENT_BIN), then type-checks examples/quickstart.ts
// against the installed declarations, once with browser types only and
// once with Node types only. Exits non-zero on any failure.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const sdkDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const bin = process.env.SANDBOX_AGENT_BIN;
if (!bin) {
  console.error("pack-smoke: set SANDBOX_AGENT_BIN to a built sandbox-agent binary");
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), "sandbox-agent-pack-"));
const sh = (cmd, args, cwd, env = {}) => {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } }).toString();
  } catch (err) {
    throw new Error(`pack-smoke: ${cmd} ${args.join(" ")} failed:\n${err.stdout ?? ""}`);
  }
};

try {
  sh("npm", ["pack", "--silent", "--pack-destination", work], sdkDir);
  const tgz = readdirSync(work).find((f) => f.endsWith(".tgz"));
  const app = join(work, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "smoke", private: true, version: "0.0.0" }));
  // The SDK has no runtime dependency: installing the tarball needs no registry.
  sh("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", join(work, tgz)], app);

  const body = (load) => `${load}
(async () => {
  const sdk = await SandboxAgent.start({ spawn: { log: "silent" } });
  try {
    await sdk.createSession("smoke", { agent: "mock" });
    let text = "";
    for await (const ev of sdk.streamTurn("smoke", { message: "echo packed" })) {
      if (ev.type === "item.completed" && ev.data.item.role === "assistant") text = ev.data.item.content[0].text;
    }
    if (text !== "packed") throw new Error("unexpected reply: " + text);
    const err = await sdk.getSession("nope").catch((e) => e);
    if (!(err instanceof SandboxAgentError) || err.status !== 404) throw new Error("error mapping broken: " + err);
    console.log("ok");
  } finally {
    await sdk.dispose();
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;
  writeFileSync(join(app, "esm.mjs"), body('import { SandboxAgent, SandboxAgentError } from "sandbox-agent";'));
  writeFileSync(join(app, "cjs.cjs"), body('const { SandboxAgent, SandboxAgentError } = require("sandbox-agent");'));
  for (const file of ["esm.mjs", "cjs.cjs"]) {
    const out = sh(process.execPath, [file], app, { SANDBOX_AGENT_BIN: resolve(bin) }).trim();
    if (out !== "ok") throw new Error(`${file} printed ${out}`);
    console.log(`pack-smoke: ${file} ok`);
  }

  // Browsers, Deno and workers load the ESM entry: outside the lazily
  // imported embedded-mode chunk it must not touch a Node-only API.
  const pkgDir = join(app, "node_modules/sandbox-agent/dist");
  const entry = readFileSync(join(pkgDir, "index.js"), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "") // comments may name anything
    .replace(/^\s*\/\/.*$/gm, "");
  const nodeOnly = entry.match(/\b(process\.|Buffer\b|require\(|__dirname|__filename)|from ["']node:|import\(["']node:/g);
  if (nodeOnly) throw new Error(`dist/index.js uses Node-only APIs: ${[...new Set(nodeOnly)].join(", ")}`);
  const lazy = [...entry.matchAll(/import\(["']\.\/([^"']+)["']\)/g)].map((m) => m[1]);
  if (lazy.length !== 1 || !/^spawn-/.test(lazy[0])) throw new Error(`unexpected lazy chunks: ${lazy.join(", ")}`);
  console.log("pack-smoke: the ESM entry uses no Node-only API (embedded mode is a lazy chunk)");

  copyFileSync(join(sdkDir, "examples/quickstart.ts"), join(app, "quickstart.ts"));
  const tsc = join(sdkDir, "node_modules/typescript/bin/tsc");
  const base = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false };
  const configs = {
    browser: { ...base, lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] },
    node: { ...base, lib: ["ES2022"], types: ["node"], typeRoots: [join(sdkDir, "node_modules/@types")] },
  };
  for (const [name, compilerOptions] of Object.entries(configs)) {
    writeFileSync(
      join(app, `tsconfig.${name}.json`),
      JSON.stringify({ compilerOptions: { ...compilerOptions, module: "NodeNext" }, files: ["quickstart.ts"] }),
    );
    // quickstart.ts uses top-level await: it is an ES module.
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "smoke", private: true, version: "0.0.0", type: "module" }));
    sh(process.execPath, [tsc, "-p", `tsconfig.${name}.json`], app);
    console.log(`pack-smoke: quickstart.ts type-checks with ${name} types`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
