// Before the component tests: the recorded event sequences they render,
// made by the real converters and session pipeline from the captured
// agent streams (inspector/fixtures_test.go), written to inspector/.fixtures.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { fixturesDir } from "./fixtures";

export default function setup(): void {
  rmSync(fixturesDir, { recursive: true, force: true });
  const repo = resolve(fixturesDir, "..", "..");
  execFileSync("go", ["test", "-count=1", "-run", "^TestTranscriptFixtures$", "./inspector", "-args", "-fixtures", fixturesDir], {
    cwd: repo,
    stdio: ["ignore", "inherit", "inherit"],
  });
}
