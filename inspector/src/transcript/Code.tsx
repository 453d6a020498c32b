// Code blocks and unified diffs with a small, language-agnostic highlighter:
// strings, comments, numbers and common keywords get a colour. Good enough
// to read agent output; no grammar files to ship.
import { memo, type ReactNode } from "react";

const keywords = new Set(
  (
    "func package import return if else for range switch case default break continue go defer var const type struct interface map chan " +
    "function let class extends new this async await export from while do try catch finally throw typeof instanceof yield static " +
    "def lambda pass raise with as in is not and or None True False self elif except " +
    "fn impl pub use mod match mut ref trait enum where loop crate " +
    "true false null nil undefined void int string bool float echo then fi done esac local"
  ).split(" "),
);

const tokenRe =
  /(\/\/[^\n]*|#(?![!{])[^\n]*|\/\*[\s\S]*?\*\/)|("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|(\b\d[\d_.]*(?:e[+-]?\d+)?\b)|([A-Za-z_][\w]*)/g;

/** Splits one line (or block) of code into coloured spans. */
export function highlight(code: string, lang?: string): ReactNode[] {
  const out: ReactNode[] = [];
  const hashComments = !lang || /^(sh|bash|shell|zsh|py|python|rb|ruby|yaml|yml|toml|conf|dockerfile|make)$/i.test(lang);
  let last = 0;
  let k = 0;
  for (const m of code.matchAll(tokenRe)) {
    const start = m.index ?? 0;
    if (start > last) out.push(code.slice(last, start));
    const [text, comment, str, num, word] = m;
    if (comment !== undefined && (hashComments || !comment.startsWith("#"))) out.push(<span key={k++} className="tok-c">{text}</span>);
    else if (str !== undefined) out.push(<span key={k++} className="tok-s">{text}</span>);
    else if (num !== undefined) out.push(<span key={k++} className="tok-n">{text}</span>);
    else if (word !== undefined && keywords.has(word)) out.push(<span key={k++} className="tok-k">{text}</span>);
    else out.push(text);
    last = start + text.length;
  }
  if (last < code.length) out.push(code.slice(last));
  return out;
}

export const Code = memo(function Code({ code, lang }: { code: string; lang?: string }) {
  if (lang === "diff" || lang === "patch") return <Diff diff={code} />;
  return (
    <pre className="code" data-lang={lang || undefined}>
      <code>{highlight(code, lang)}</code>
    </pre>
  );
});

/** The language of a file, from its extension, for diff highlighting. */
export function langOf(path: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext;
}

/**
 * A unified diff: hunk headers, additions and deletions coloured, the code
 * of each line highlighted for the file's language.
 */
export const Diff = memo(function Diff({ diff, path }: { diff: string; path?: string }) {
  const lang = path ? langOf(path) : undefined;
  const lines = diff.endsWith("\n") ? diff.slice(0, -1).split("\n") : diff.split("\n");
  return (
    <pre className="diff">
      {lines.map((line, i) => {
        let cls = "ctx";
        if (line.startsWith("@@")) cls = "hunk";
        else if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) cls = "meta";
        else if (line.startsWith("+")) cls = "add";
        else if (line.startsWith("-")) cls = "del";
        const body = cls === "add" || cls === "del" || cls === "ctx" ? line.slice(0, 1) : line;
        const rest = cls === "add" || cls === "del" || cls === "ctx" ? line.slice(1) : "";
        return (
          <div key={i} className={`dl dl-${cls}`}>
            {body}
            {rest ? highlight(rest, lang) : null}
          </div>
        );
      })}
    </pre>
  );
});
