import { defineConfig } from "vitest/config";

// Two projects: unit tests need nothing; integration tests drive the real
// Go binary (built once by the global setup unless SANDBOX_AGENT_BIN names
// one). Test files run in parallel worker processes.
export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/integration/global-setup.ts"],
        },
      },
    ],
  },
});
