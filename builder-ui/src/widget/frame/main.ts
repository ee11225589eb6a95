// The chat frame: served by Frontdesk at /widget/frame.html inside the
// iframe the loader injects. It renders a Session and talks to the loader
// with postMessage, only with the host origin it was served for.
import "./frame.css";
import type { FrameToHost, HostToFrame } from "../protocol";
import { Session, type Env, type Item, type State, type HelloExtras, type SocketLike } from "./session";
import { renderRich } from "./render";
import { words, type Words } from "./i18n";
import { cleanIdentity, cleanVars } from "./clean";

const params = new URLSearchParams(location.search);
const key = params.get("key") || "";
const hostOrigin = params.get("origin") || "";
const inFrame = window.parent !== window;
const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
// frame-ancestors already pins the embedding origin; this is the same check
// on the client, for browsers that expose it.
const trusted = !inFrame || !ancestors || ancestors.length === 0 || ancestors[0] === hostOrigin;

let t: Words = words(params.get("lang") || navigator.language);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function icon(d: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.appendChild(path);
  return svg;
}
const chatIcon = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
const closeIcon = "M6 6l12 12M18 6L6 18";
const sendIcon = "M3 20l18-8L3 4v6l12 2-12 2z";

// The DOM, built once.
const root = el("div", "fd");
root.id = "fd";
const panel = el("section", "panel");
panel.setAttribute("role", "dialog");
panel.setAttribute("aria-label", "Chat");
const header = el("header", "head");
const avatar = el("span", "avatar");
const who = el("div", "who");
const nameEl = el("strong", "name");
const statusEl = el("span", "status");
who.append(nameEl, statusEl);
const closeBtn = el("button", "x");
closeBtn.type = "button";
closeBtn.appendChild(icon(closeIcon));
header.append(avatar, who, closeBtn);
const banner = el("div", "banner");
banner.hidden = true;
const list = el("ol", "list");
list.setAttribute("aria-live", "polite");
list.setAttribute("aria-relevant", "additions");
const typing = el("div", "typing");
typing.hidden = true;
const dots = el("span", "dots");
dots.append(el("i"), el("i"), el("i"));
const typingText = el("span", "tt");
typing.append(dots, typingText);
const replies = el("div", "qr");
const form = el("form", "composer");
const input = el("textarea", "input");
input.rows = 1;
input.maxLength = 4000;
const sendBtn = el("button", "send");
sendBtn.type = "submit";
sendBtn.appendChild(icon(sendIcon));
form.append(input, sendBtn);
panel.append(header, banner, list, typing, replies, form);
const bubble = el("button", "bubble");
bubble.type = "button";
bubble.appendChild(icon(chatIcon));
const badge = el("span", "badge");
badge.hidden = true;
bubble.appendChild(badge);
root.append(panel, bubble);
document.body.appendChild(root);

function applyWords(): void {
  closeBtn.setAttribute("aria-label", t.close);
  bubble.setAttribute("aria-label", t.open);
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  sendBtn.setAttribute("aria-label", t.send);
  document.documentElement.lang = session?.state.language || "en";
}

let open = false;
let unread = 0;
let compact = false;

function post(m: FrameToHost) {
  if (inFrame && trusted && hostOrigin) {
    window.parent.postMessage(m, hostOrigin);
  }
}

function setOpen(v: boolean) {
  if (v === open || !session) return;
  open = v;
  if (open) {
    unread = 0;
    session.wake();
  }
  session.setOpenSaved(open);
  root.classList.toggle("open", open);
  // The host resizes the iframe first; focusing after that keeps the page
  // from scrolling.
  post({ fd: 1, type: "state", open, unread });
  if (open) {
    setTimeout(() => {
      input.focus({ preventScroll: true });
      list.scrollTop = list.scrollHeight;
    }, 50);
  }
  render(session.state);
}

const nodes = new Map<string, { sig: string; li: HTMLLIElement }>();

function itemNode(it: Item, showName: boolean): HTMLLIElement {
  const li = el("li", "msg " + it.author + (it.pending ? " pending" : "") + (it.error ? " failed" : ""));
  if (showName && it.author_name && (it.author === "agent" || it.author === "bot")) {
    li.appendChild(el("div", "meta", it.author_name));
  }
  const body = el("div", "body");
  if (it.author === "bot" || it.author === "agent") {
    body.appendChild(renderRich(it.text));
  } else {
    body.textContent = it.text; // visitors' and system text is text
  }
  li.appendChild(body);
  if (it.error) {
    li.appendChild(el("div", "note", t.notSent + ": " + it.error));
  } else if (it.pending) {
    li.appendChild(el("div", "note", t.sending));
  }
  return li;
}

function render(s: State) {
  const who = s.agent && s.agent.name ? s.agent : s.assistant;
  nameEl.textContent = who.name || "Chat";
  avatar.textContent = "";
  if (who.avatar_url && /^https:\/\//.test(who.avatar_url)) {
    const img = el("img");
    img.alt = "";
    img.src = who.avatar_url;
    avatar.appendChild(img);
  } else {
    avatar.textContent = (who.name || "?").trim().charAt(0).toUpperCase();
  }
  statusEl.textContent = s.status === "connecting" ? t.connecting : s.status === "offline" ? t.offline : "";
  root.classList.toggle("agent", !!(s.agent && s.agent.name));

  banner.textContent = "";
  banner.hidden = true;
  if (s.status === "unavailable") {
    banner.hidden = false;
    banner.textContent = t.unavailable;
  } else if (s.status === "closed") {
    banner.hidden = false;
    banner.appendChild(el("span", "", t.closed + " "));
    const b = el("button", "link", t.restart);
    b.type = "button";
    b.onclick = () => session?.restart();
    banner.appendChild(b);
  }

  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const seen = new Set<string>();
  let prev: Item | undefined;
  let cursor: ChildNode | null = list.firstChild;
  for (const it of s.items) {
    const showName = !prev || prev.author !== it.author || prev.author_name !== it.author_name;
    const sig = [it.pending ? 1 : 0, it.error || "", showName ? 1 : 0, it.text].join("|");
    let n = nodes.get(it.key);
    if (!n || n.sig !== sig) {
      const li = itemNode(it, showName);
      if (n) n.li.replaceWith(li);
      n = { sig, li };
      nodes.set(it.key, n);
    }
    seen.add(it.key);
    if (n.li !== cursor) list.insertBefore(n.li, cursor);
    cursor = n.li.nextSibling;
    prev = it;
  }
  for (const [k, n] of nodes) {
    if (!seen.has(k)) {
      n.li.remove();
      nodes.delete(k);
    }
  }

  typing.hidden = !s.typing;
  if (s.typing) {
    typingText.textContent = (s.typing.name || who.name || "") + " " + t.typing;
  }

  replies.textContent = "";
  const last = s.items[s.items.length - 1];
  if (last && (last.author === "bot" || last.author === "agent") && last.quick_replies && last.quick_replies.length && s.status !== "closed") {
    for (const q of last.quick_replies) {
      const b = el("button", "reply", q.label);
      b.type = "button";
      b.onclick = () => {
        replies.textContent = "";
        session?.say(q.label, q.value);
      };
      replies.appendChild(b);
    }
  }

  input.disabled = s.status === "unavailable";
  badge.hidden = open || unread === 0;
  badge.textContent = unread > 9 ? "9+" : String(unread);
  if (nearBottom || (last && last.author === "visitor")) {
    list.scrollTop = list.scrollHeight;
  }
}

function onChange(s: State, live?: Item) {
  if (live) {
    if (!open && live.author !== "visitor") {
      unread++;
      post({ fd: 1, type: "state", open, unread });
    }
    post({
      fd: 1,
      type: "event",
      name: "message",
      data: { id: live.key, seq: live.seq, author: live.author, author_name: live.author_name, text: live.text, created_at: live.created_at },
    });
  }
  t = words(s.language || navigator.language);
  render(s);
}

const wsURL = new URL("/api/v1/widget/ws", location.href);
wsURL.protocol = location.protocol === "https:" ? "wss:" : "ws:";
wsURL.search = new URLSearchParams({ key, origin: hostOrigin }).toString();

const storeKey = "fd:v1:" + key;

/** frameStorage is localStorage of the frame's origin, when the browser
 * lets a third-party frame have it (Chrome with third-party cookies
 * blocked, and Safari, do not). */
function frameStorage(): Env["storage"] {
  try {
    const s = window.localStorage;
    s.setItem("fd:probe", "1");
    s.removeItem("fd:probe");
    return s;
  } catch {
    return null;
  }
}

/** hostStorage keeps the state in the host page's localStorage through the
 * loader, for browsers that refuse storage to third-party frames. */
function hostStorage(initial: string | null | undefined): Env["storage"] {
  const mem = new Map<string, string>();
  if (typeof initial === "string") mem.set(storeKey, initial);
  return {
    getItem: (k) => mem.get(k) ?? null,
    setItem: (k, v) => {
      mem.set(k, v);
      if (k === storeKey) post({ fd: 1, type: "store", value: v });
    },
    removeItem: (k) => {
      mem.delete(k);
      if (k === storeKey) post({ fd: 1, type: "store", value: null });
    },
  };
}

let session: Session | null = null;
let extrasBeforeStart: HelloExtras = {};

function newSession(storage: Env["storage"]): Session {
  return new Session(
    { storeKey, wsURL: wsURL.toString(), locale: (params.get("lang") || navigator.language || "").replace(/[^A-Za-z0-9_-]/g, "") },
    {
      connect: (url) => new WebSocket(url) as unknown as SocketLike,
      storage,
      now: () => Date.now(),
      random: Math.random,
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (h) => window.clearTimeout(h as number),
      fetchHistory: async (token) => {
        const u = new URL("/api/v1/widget/history", location.href);
        u.search = new URLSearchParams({ key, origin: hostOrigin }).toString();
        const r = await fetch(u, { headers: { Authorization: "Bearer " + token }, credentials: "omit", cache: "no-store" });
        if (!r.ok) throw new Error("history " + r.status);
        return r.json();
      },
    },
    onChange,
  );
}
applyWords();

bubble.onclick = () => setOpen(!open);
closeBtn.onclick = () => setOpen(false);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && open) setOpen(false);
});
form.onsubmit = (e) => {
  e.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  autosize();
  session?.setTyping(false);
  session?.say(text);
};
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
function autosize() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 120) + "px";
}
input.addEventListener("input", () => {
  autosize();
  session?.setTyping(input.value.trim().length > 0);
});
window.addEventListener("online", () => session?.wake());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") session?.wake();
});

function start(extras: HelloExtras, stored?: string | null) {
  if (session) return;
  const s = (session = newSession(frameStorage() || (inFrame ? hostStorage(stored) : null)));
  s.start({ ...extras, ...extrasBeforeStart }, true);
  applyWords();
  if (s.isOpenSaved) setOpen(true);
  render(s.state);
}

function setExtras(x: HelloExtras) {
  if (session) session.setExtras(x);
  else extrasBeforeStart = { ...extrasBeforeStart, ...x };
}

window.addEventListener("message", (e: MessageEvent) => {
  if (!inFrame || e.source !== window.parent || e.origin !== hostOrigin) return;
  const m = e.data as HostToFrame;
  if (!m || m.fd !== 1) return;
  switch (m.type) {
    case "init":
      compact = !!m.compact;
      root.classList.toggle("compact", compact);
      start({
        page_url: /^https?:\/\//.test(m.page_url) ? m.page_url.slice(0, 2048) : undefined,
        referrer: typeof m.referrer === "string" ? m.referrer.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 2048) : undefined,
        vars: cleanVars(m.vars),
        identity: cleanIdentity(m.identity),
      }, m.stored);
      break;
    case "host":
      compact = !!m.compact;
      root.classList.toggle("compact", compact);
      break;
    case "cmd":
      setOpen(m.cmd === "open" ? true : m.cmd === "close" ? false : !open);
      break;
    case "identify":
      setExtras({ identity: cleanIdentity(m.identity) });
      break;
    case "vars":
      setExtras({ vars: cleanVars(m.vars) });
      break;
  }
});

if (!key || !trusted || (inFrame && !/^https?:\/\/[^/]+$/.test(hostOrigin))) {
  const s = (session = newSession(null));
  s.state.status = "unavailable";
  render(s.state);
} else if (inFrame) {
  post({ fd: 1, type: "ready" });
  // A host that never answers (an old loader) still gets a chat.
  setTimeout(() => start({}), 1500);
} else {
  start({});
}
