// The recorded event sequences (see globalSetup.ts), by name.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { UniversalEvent } from "sandbox-agent";

// vite.config.ts sets the variable to inspector/.fixtures.
export const fixturesDir = process.env.INSPECTOR_FIXTURES ?? resolve(".fixtures");

export function loadFixtures(): Record<string, UniversalEvent[]> {
  const out: Record<string, UniversalEvent[]> = {};
  for (const f of readdirSync(fixturesDir).sort()) {
    if (f.endsWith(".json")) out[f.slice(0, -5)] = JSON.parse(readFileSync(`${fixturesDir}/${f}`, "utf8")) as UniversalEvent[];
  }
  return out;
}
