import { act } from "react";
import { createRoot } from "react-dom/client";
import { describe, expect, it } from "vitest";
import { Diff } from "./Code";
import { Markdown, safeHref } from "./Markdown";
import { usageOf } from "./model";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function html(el: React.ReactElement): HTMLDivElement {
  const div = document.createElement("div");
  const root = createRoot(div);
  act(() => root.render(el));
  return div;
}

describe("Markdown", () => {
  it("never injects agent HTML or script links", () => {
    const div = html(<Markdown text={'<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n[click](javascript:alert(3)) [ok](https://example.com)'} />);
    expect(div.querySelector("img, script")).toBeNull();
    expect(div.textContent).toContain("<script>alert(2)</script>");
    const links = [...div.querySelectorAll("a")].map((a) => a.getAttribute("href"));
    expect(links).toEqual(["#", "https://example.com"]);
    expect(safeHref("data:text/html,x")).toBe("#");
    expect(safeHref("docs/readme.md")).toBe("docs/readme.md");
  });

  it("renders GFM: tables, task lists, strikethrough, fenced code", () => {
    const div = html(<Markdown text={"| a | b |\n|---|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~\n\n```go\nfunc main() {}\n```\n"} />);
    expect(div.querySelectorAll("td").length).toBe(2);
    expect(div.querySelectorAll("input[type=checkbox]").length).toBe(2);
    expect(div.querySelector("del")?.textContent).toBe("old");
    expect(div.querySelector("pre.code .tok-k")?.textContent).toBe("func");
  });
});

describe("Diff", () => {
  it("colours hunks, additions and deletions", () => {
    const div = html(<Diff diff={"--- a/x.go\n+++ b/x.go\n@@ -1 +1 @@\n-old := 1\n+new := 2\n same\n"} path="x.go" />);
    const cls = [...div.querySelectorAll(".dl")].map((l) => l.className.replace("dl dl-", ""));
    expect(cls).toEqual(["meta", "meta", "hunk", "del", "add", "ctx"]);
    expect(div.querySelector(".dl-add .tok-n")?.textContent).toBe("2");
  });
});

describe("usageOf", () => {
  it("reads Claude's and Codex's token counts", () => {
    expect(usageOf({ input_tokens: 10, output_tokens: 5 })).toEqual({ input: 10, output: 5, total: 15 });
    expect(usageOf({ total: { inputTokens: 100, outputTokens: 20, totalTokens: 120 } })).toEqual({ input: 100, output: 20, total: 120 });
    expect(usageOf({})).toBeUndefined();
    expect(usageOf(null)).toBeUndefined();
  });
});
