// Markdown as React elements: marked's lexer makes the tokens, this file
// renders them. No HTML string is ever injected, so agent output cannot
// script the page; raw HTML in the text is shown as text.
import { Lexer, type Token, type Tokens } from "marked";
import { memo, type ReactNode } from "react";
import { Code } from "./Code";

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  let tokens: Token[];
  try {
    tokens = Lexer.lex(text, { gfm: true });
  } catch {
    return <div className="md"><p className="plain">{text}</p></div>;
  }
  return <div className="md">{blocks(tokens)}</div>;
});

function blocks(tokens: Token[]): ReactNode[] {
  return tokens.map((t, i) => block(t, i));
}

function block(t: Token, key: number): ReactNode {
  switch (t.type) {
    case "space":
      return null;
    case "heading": {
      const h = t as Tokens.Heading;
      const Tag = `h${Math.min(Math.max(h.depth, 1), 6)}` as "h1";
      return <Tag key={key}>{inline(h.tokens)}</Tag>;
    }
    case "paragraph":
      return <p key={key}>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case "text": {
      const tt = t as Tokens.Text;
      return <p key={key}>{tt.tokens ? inline(tt.tokens) : tt.text}</p>;
    }
    case "code": {
      const c = t as Tokens.Code;
      return <Code key={key} code={c.text} lang={c.lang} />;
    }
    case "blockquote":
      return <blockquote key={key}>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case "hr":
      return <hr key={key} />;
    case "list": {
      const l = t as Tokens.List;
      const items = l.items.map((it, i) => (
        <li key={i}>
          {it.task ? <input type="checkbox" checked={!!it.checked} readOnly disabled /> : null}
          {listItem(it)}
        </li>
      ));
      return l.ordered ? (
        <ol key={key} start={typeof l.start === "number" && l.start !== 1 ? l.start : undefined}>{items}</ol>
      ) : (
        <ul key={key}>{items}</ul>
      );
    }
    case "table": {
      const tb = t as Tokens.Table;
      const align = (i: number) => tb.align[i] ?? undefined;
      return (
        <table key={key}>
          <thead>
            <tr>{tb.header.map((c, i) => <th key={i} style={{ textAlign: align(i) }}>{inline(c.tokens)}</th>)}</tr>
          </thead>
          <tbody>
            {tb.rows.map((row, r) => (
              <tr key={r}>{row.map((c, i) => <td key={i} style={{ textAlign: align(i) }}>{inline(c.tokens)}</td>)}</tr>
            ))}
          </tbody>
        </table>
      );
    }
    case "html":
      return <p key={key} className="plain">{(t as Tokens.HTML).text}</p>;
    default:
      return "raw" in t ? <p key={key} className="plain">{String(t.raw)}</p> : null;
  }
}

// A tight list item's text tokens are inline; a loose one has paragraphs.
function listItem(it: Tokens.ListItem): ReactNode {
  return it.tokens.map((t, i) => {
    if (t.type === "text") {
      const tt = t as Tokens.Text;
      return <span key={i}>{tt.tokens ? inline(tt.tokens) : tt.text}</span>;
    }
    return block(t, i);
  });
}

function inline(tokens: Token[] | undefined): ReactNode[] {
  return (tokens ?? []).map((t, i) => {
    switch (t.type) {
      case "text": {
        const tt = t as Tokens.Text;
        return tt.tokens ? <span key={i}>{inline(tt.tokens)}</span> : tt.text;
      }
      case "escape":
        return (t as Tokens.Escape).text;
      case "strong":
        return <strong key={i}>{inline((t as Tokens.Strong).tokens)}</strong>;
      case "em":
        return <em key={i}>{inline((t as Tokens.Em).tokens)}</em>;
      case "del":
        return <del key={i}>{inline((t as Tokens.Del).tokens)}</del>;
      case "codespan":
        return <code key={i}>{(t as Tokens.Codespan).text}</code>;
      case "br":
        return <br key={i} />;
      case "link": {
        const l = t as Tokens.Link;
        return (
          <a key={i} href={safeHref(l.href)} title={l.title ?? undefined} target="_blank" rel="noreferrer noopener">
            {inline(l.tokens)}
          </a>
        );
      }
      case "image": {
        const im = t as Tokens.Image;
        return <span key={i} className="md-image">[image: {im.text || im.href}]</span>;
      }
      default:
        return "raw" in t ? String(t.raw) : null;
    }
  });
}

// safeHref keeps http(s), mailto and relative links; anything else
// (javascript:, data:) becomes inert.
export function safeHref(href: string): string {
  const h = href.trim();
  if (/^(https?:|mailto:)/i.test(h) || !/^[a-z][a-z0-9+.-]*:/i.test(h)) return h;
  return "#";
}
