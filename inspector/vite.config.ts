/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// The SDK is a file dependency; its source is compiled in directly, so the
// inspector builds without building the SDK first (and its dist/ stays out
// of the picture).
const sdk = fileURLToPath(new URL("../sdks/typescript/src/index.ts", import.meta.url));

// Where the component tests' recorded event sequences are written
// (src/test/globalSetup.ts) and read; set here so both agree.
process.env.INSPECTOR_FIXTURES ??= fileURLToPath(new URL(".fixtures", import.meta.url));

// The build is committed (dist/) and embedded into the Go binary; CI rebuilds
// it from the lockfile and fails when it differs, so it must be
// deterministic: no source maps, content-hashed names, no timestamps.
// The SDK's spawn module (Node only: it starts a server process) is loaded
// only by SandboxAgent.start, which a page never calls; a stub keeps Node's
// modules out of the bundle.
const noSpawn: Plugin = {
  name: "sandbox-agent-no-spawn",
  enforce: "pre",
  resolveId(id, importer) {
    return id === "./spawn.js" && importer?.includes("sdks/typescript/src/") ? "\0sdk-spawn-stub" : undefined;
  },
  load(id) {
    return id === "\0sdk-spawn-stub" ? 'export function spawnSandboxAgent() { throw new Error("SandboxAgent.start does not run in a browser"); }' : undefined;
  },
};

export default defineConfig({
  base: "/ui/",
  plugins: [noSpawn],
  resolve: { alias: { "sandbox-agent": sdk } },
  esbuild: { jsx: "automatic", legalComments: "none" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (/node_modules\/(react|react-dom|scheduler)\//.test(id)) return "react";
          if (id.includes("node_modules/marked/")) return "marked";
          return undefined;
        },
      },
    },
  },
  server: { host: "127.0.0.1" },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    globalSetup: ["src/test/globalSetup.ts"],
  },
});
