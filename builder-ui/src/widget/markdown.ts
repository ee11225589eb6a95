// A tiny markdown subset for chat messages, parsed into a tree that the
// renderer turns into DOM nodes with textContent only: bold (**x** or
// __x__), italics (*x* or _x_), links ([label](url) and bare URLs) whose
// scheme is http, https or mailto, bulleted (-, *, •) and numbered (1.)
// lists, and line breaks. Everything else is text: markup in a message can
// never become HTML, and a link to javascript: stays the characters it was.
//
// The parser is pure (no DOM) so it is unit-tested under Node.

export type Inline =
  | { t: "text"; v: string }
  | { t: "b"; c: Inline[] }
  | { t: "i"; c: Inline[] }
  | { t: "a"; href: string; c: Inline[] }
  | { t: "br" };

export type Block =
  | { t: "p"; c: Inline[] }
  | { t: "ul"; items: Inline[][] }
  | { t: "ol"; start: number; items: Inline[][] };

/** MaxLength bounds what is parsed; the rest is cut (messages are 4000 bytes). */
export const MaxLength = 8000;

/** safeHref returns the URL when its scheme is allowed, else "". */
export function safeHref(raw: string): string {
  const s = raw.trim();
  // No control characters or spaces: "java\nscript:" tricks fail here too.
  if (!s || /[\u0000-\u0020\u007f-\u009f]/.test(s)) {
    return "";
  }
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  if (!m) {
    return "";
  }
  const scheme = m[1].toLowerCase();
  if (scheme === "http" || scheme === "https") {
    return /^https?:\/\/[^/?#]/i.test(s) ? s : "";
  }
  if (scheme === "mailto") {
    return s.length > 7 ? s : "";
  }
  return "";
}

const bullet = /^\s{0,3}[-*•]\s+(.*)$/;
const numbered = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;

/** parse splits a message into blocks of inline nodes. */
export function parse(text: string): Block[] {
  const lines = text.slice(0, MaxLength).replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) {
      const c: Inline[] = [];
      para.forEach((l, i) => {
        if (i > 0) c.push({ t: "br" });
        c.push(...inline(l, 0));
      });
      blocks.push({ t: "p", c });
      para = [];
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = bullet.exec(line)) && !/^\s*\*\*/.test(line)) {
      flush();
      const items: Inline[][] = [];
      while (i < lines.length && (m = bullet.exec(lines[i])) && !/^\s*\*\*/.test(lines[i])) {
        items.push(inline(m[1], 0));
        i++;
      }
      i--;
      blocks.push({ t: "ul", items });
    } else if ((m = numbered.exec(line))) {
      flush();
      const start = parseInt(m[1], 10);
      const items: Inline[][] = [];
      while (i < lines.length && (m = numbered.exec(lines[i]))) {
        items.push(inline(m[2], 0));
        i++;
      }
      i--;
      blocks.push({ t: "ol", start, items });
    } else if (line.trim() === "") {
      flush();
    } else {
      para.push(line);
    }
  }
  flush();
  return blocks;
}

const urlRe = /^(https?:\/\/[^\s<>"']+|mailto:[^\s<>"']+)/i;

/** inline parses emphasis and links; depth bounds nesting. */
export function inline(s: string, depth: number): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const push = (n: Inline) => {
    if (text) {
      out.push({ t: "text", v: text });
      text = "";
    }
    out.push(n);
  };
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (depth < 4 && (ch === "*" || ch === "_")) {
      const dbl = s[i + 1] === ch;
      const mark = dbl ? ch + ch : ch;
      const close = findClose(s, i + mark.length, mark);
      // Intra-word underscores (snake_case) are text.
      const wordBefore = ch === "_" && i > 0 && /\w/.test(s[i - 1]);
      if (close > i + mark.length && !wordBefore && !/\s/.test(s[i + mark.length])) {
        push({ t: dbl ? "b" : "i", c: inline(s.slice(i + mark.length, close), depth + 1) });
        i = close + mark.length;
        continue;
      }
    }
    if (ch === "[" && depth < 4) {
      const end = s.indexOf("](", i + 1);
      if (end > i + 1) {
        const close = s.indexOf(")", end + 2);
        if (close > end + 2) {
          const href = safeHref(s.slice(end + 2, close));
          if (href) {
            push({ t: "a", href, c: inline(s.slice(i + 1, end), depth + 1) });
            i = close + 1;
            continue;
          }
        }
      }
    }
    if ((ch === "h" || ch === "H" || ch === "m" || ch === "M") && (i === 0 || /[\s(]/.test(s[i - 1]))) {
      const m = urlRe.exec(s.slice(i));
      if (m) {
        // Trailing punctuation ends a sentence, not the URL.
        const url = m[1].replace(/[.,;:!?)]+$/, "");
        const href = safeHref(url);
        if (href) {
          push({ t: "a", href, c: [{ t: "text", v: url }] });
          i += url.length;
          continue;
        }
      }
    }
    text += ch;
    i++;
  }
  if (text) {
    out.push({ t: "text", v: text });
  }
  return out;
}

function findClose(s: string, from: number, mark: string): number {
  let j = s.indexOf(mark, from);
  while (j !== -1) {
    // A closing mark follows a non-space, and a single * is not half of **.
    if (!/\s/.test(s[j - 1]) && (mark.length === 2 || s[j + 1] !== mark)) {
      return j;
    }
    j = s.indexOf(mark, j + mark.length);
  }
  return -1;
}

/** plain returns the text of a tree, for notifications and previews. */
export function plain(blocks: Block[]): string {
  const inl = (c: Inline[]): string =>
    c.map((n) => (n.t === "text" ? n.v : n.t === "br" ? "\n" : "c" in n ? inl(n.c) : "")).join("");
  return blocks
    .map((b) => (b.t === "p" ? inl(b.c) : b.items.map((it) => "• " + inl(it)).join("\n")))
    .join("\n");
}
