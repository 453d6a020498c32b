import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
// @ts-expect-error: a plain JavaScript script without declarations
import { outPath, render } from "../../scripts/generate-types.mjs";

it("src/generated/openapi.ts matches docs/openapi.json (run `npm run generate`)", { timeout: 180_000 }, async () => {
  const committed = await readFile(outPath as string, "utf8");
  expect(committed === (await (render as () => Promise<string>)())).toBe(true);
});
