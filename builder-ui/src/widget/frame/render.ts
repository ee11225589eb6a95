// Renders the markdown subset's tree as DOM nodes. Text only ever goes in
// through createTextNode, and hrefs passed safeHref in the parser.
import { parse, type Block, type Inline } from "../markdown";

export function renderRich(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const b of parse(text)) {
    frag.appendChild(block(b));
  }
  return frag;
}

function block(b: Block): HTMLElement {
  if (b.t === "p") {
    return inlines(document.createElement("p"), b.c);
  }
  const list = document.createElement(b.t);
  if (b.t === "ol" && b.start !== 1) {
    list.setAttribute("start", String(b.start));
  }
  for (const item of b.items) {
    list.appendChild(inlines(document.createElement("li"), item));
  }
  return list;
}

function inlines<T extends HTMLElement>(el: T, nodes: Inline[]): T {
  for (const n of nodes) {
    switch (n.t) {
      case "text":
        el.appendChild(document.createTextNode(n.v));
        break;
      case "br":
        el.appendChild(document.createElement("br"));
        break;
      case "b":
        el.appendChild(inlines(document.createElement("strong"), n.c));
        break;
      case "i":
        el.appendChild(inlines(document.createElement("em"), n.c));
        break;
      case "a": {
        const a = document.createElement("a");
        a.href = n.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow ugc";
        el.appendChild(inlines(a, n.c));
        break;
      }
    }
  }
  return el;
}
