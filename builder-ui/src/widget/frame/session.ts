// Session is the visitor side of the realtime contract (docs/websocket.md):
// hello with the saved token and last seq, events applied once and in seq
// order, client messages kept until acked and re-sent with the same
// client_id, resume and resync, typing, keepalive, and reconnects with
// exponential backoff and full jitter. It owns no DOM: the view renders its
// state, and the unit tests drive it with a fake socket and clock.

export type Author = "visitor" | "bot" | "agent" | "system";

export interface QuickReply {
  label: string;
  value: string;
}

/** Item is one message in the list: stored (with seq) or pending (client_id). */
export interface Item {
  key: string;
  seq?: number;
  author: Author;
  author_name?: string;
  text: string;
  quick_replies?: QuickReply[];
  client_id?: string;
  created_at?: string;
  pending?: boolean;
  error?: string;
}

interface Pending {
  client_id: string;
  text: string;
  quick_reply?: string;
}

interface Saved {
  token?: string;
  conv?: string;
  last_seq: number;
  items: Item[];
  pending: Pending[];
  open?: boolean;
}

export type Status = "connecting" | "online" | "offline" | "unavailable" | "closed";

export interface State {
  status: Status;
  items: Item[];
  assistant: { name: string; avatar_url?: string };
  /** agent is who speaks for the team now, when an agent has the chat. */
  agent?: { name: string; avatar_url?: string };
  typing?: { author: Author; name?: string };
  language: string;
}

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Env {
  connect(url: string): SocketLike;
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  now(): number;
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
  fetchHistory(token: string): Promise<{ last_seq: number; events: EventFrame[] }>;
}

export interface Config {
  /** storeKey names the saved state: one per channel. */
  storeKey: string;
  wsURL: string;
  locale: string;
}

export interface HelloExtras {
  page_url?: string;
  referrer?: string;
  vars?: Record<string, string | number | boolean>;
  identity?: Record<string, string>;
}

interface EventFrame {
  type: "event";
  seq: number;
  conversation_id: string;
  kind: string;
  message?: {
    id: string;
    author: Author;
    author_name?: string;
    text: string;
    quick_replies?: QuickReply[];
    client_id?: string;
    created_at?: string;
  };
  agent?: { name: string; avatar_url?: string };
}

/** Timing of the contract; tests shorten nothing, they move a fake clock. */
export const PingEvery = 25_000;
export const TypingHide = 10_000;
export const BackoffBase = 1_000;
export const BackoffCap = 30_000;
export const StableAfter = 60_000;
export const MaxItems = 200;
const GapWait = 3_000;

export class Session {
  state: State;
  private saved: Saved;
  private ws: SocketLike | null = null;
  private welcomed = false;
  private attempt = 0;
  private openedAt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private typingTimer: unknown = null;
  private gapTimer: unknown = null;
  private lastPong = 0;
  private early = new Map<number, EventFrame>();
  private counter = 0;
  private extras: HelloExtras = {};
  private stopped = false;
  /** identityRefused: a hello with an identity and no token got 4001, so
   * the identity's signature does not verify; the session stays stopped
   * until identify() gives another identity. */
  private identityRefused = false;
  /** What the last hello carried, to tell what a 4001 refused. */
  private sentToken = false;
  private sentIdentity = false;
  private idle = false;
  private resyncing = false;

  constructor(
    private cfg: Config,
    private env: Env,
    private onChange: (s: State, live?: Item) => void,
  ) {
    this.saved = this.load();
    this.state = {
      status: "connecting",
      items: [...this.saved.items, ...this.saved.pending.map(pendingItem)],
      assistant: { name: "" },
      language: cfg.locale,
    };
  }

  get isOpenSaved(): boolean {
    return !!this.saved.open;
  }

  setOpenSaved(open: boolean) {
    this.saved.open = open;
    this.persist();
  }

  /** start connects with what the host page said about the visitor. A
   * lazy start connects only for a visitor with a conversation to resume;
   * a new one connects on wake() (the chat opens) or say(), so a page view
   * alone starts no conversation and holds no socket. */
  start(extras: HelloExtras, lazy = false) {
    this.extras = extras;
    if (lazy && !this.saved.token) {
      this.idle = true;
      return;
    }
    this.connect();
  }

  /** setExtras changes what the next hello carries (identify, setVariables). */
  setExtras(extras: HelloExtras) {
    this.extras = { ...this.extras, ...extras };
    if (this.identityRefused && extras.identity) {
      // A new identity after a refused one: try it.
      this.identityRefused = false;
      this.stopped = false;
      this.state.status = "connecting";
      this.reconnectNow();
    }
  }

  private load(): Saved {
    const empty: Saved = { last_seq: 0, items: [], pending: [] };
    try {
      const raw = this.env.storage?.getItem(this.cfg.storeKey);
      if (!raw) return empty;
      const s = JSON.parse(raw) as Saved;
      if (typeof s !== "object" || !s || typeof s.last_seq !== "number" || !Array.isArray(s.items) || !Array.isArray(s.pending)) {
        return empty;
      }
      // The cache must end at last_seq, or the replay would leave a hole.
      const top = s.items.reduce((m, it) => Math.max(m, it.seq || 0), 0);
      if (top !== s.last_seq) {
        s.items = [];
        s.last_seq = 0;
      }
      return s;
    } catch {
      return empty;
    }
  }

  private persist() {
    const s = this.saved;
    s.items = this.state.items.filter((it) => !it.pending && it.seq).slice(-MaxItems);
    try {
      this.env.storage?.setItem(this.cfg.storeKey, JSON.stringify(s));
    } catch {
      // Storage full or refused (private mode): the chat works, without resume.
    }
  }

  private changed(live?: Item) {
    this.onChange(this.state, live);
  }

  private connect() {
    if (this.stopped || this.ws) return;
    this.clearRetry();
    this.welcomed = false;
    this.idle = false;
    this.state.status = this.state.status === "online" ? "offline" : this.state.status === "closed" ? "closed" : "connecting";
    this.changed();
    let ws: SocketLike;
    try {
      ws = this.env.connect(this.cfg.wsURL);
    } catch {
      this.scheduleReconnect(1011);
      return;
    }
    this.ws = ws;
    this.openedAt = this.env.now();
    ws.onopen = () => {
      const hello: Record<string, unknown> = { type: "hello", locale: this.cfg.locale.slice(0, 35) };
      if (this.saved.token) {
        hello.token = this.saved.token;
        hello.last_seq = this.saved.last_seq;
      }
      if (this.extras.page_url) hello.page_url = this.extras.page_url;
      if (this.extras.referrer) hello.referrer = this.extras.referrer;
      if (this.extras.vars && Object.keys(this.extras.vars).length) hello.vars = this.extras.vars;
      if (this.extras.identity) hello.identity = this.extras.identity;
      this.sentToken = !!hello.token;
      this.sentIdentity = !!hello.identity;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws || typeof e.data !== "string") return;
      let f: { type?: string } & Record<string, unknown>;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(f);
    };
    ws.onerror = () => {};
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.welcomed = false;
      this.stopPing();
      this.scheduleReconnect(e.code);
    };
  }

  private handle(f: Record<string, unknown>) {
    switch (f.type) {
      case "welcome":
        return this.welcome(f as never);
      case "event":
        return this.event(f as unknown as EventFrame, true);
      case "ack":
        return this.ack(f as never);
      case "typing":
        return this.typing(f as never);
      case "resync":
        return void this.resync();
      case "error":
        return this.error(f as never);
      case "pong":
        this.lastPong = this.env.now();
        return;
    }
  }

  private welcome(f: { conversation_id: string; token: string; last_seq: number; assistant?: { name: string; avatar_url?: string }; language?: string }) {
    if ((this.saved.conv && this.saved.conv !== f.conversation_id) || f.last_seq < this.saved.last_seq) {
      // A new conversation (the old one closed): its seq starts over.
      this.saved.last_seq = 0;
      this.state.items = this.state.items.filter((it) => it.pending);
      this.state.agent = undefined;
      this.early.clear();
    }
    this.saved.token = f.token;
    this.saved.conv = f.conversation_id;
    if (f.assistant && f.assistant.name) {
      this.state.assistant = { name: f.assistant.name, avatar_url: f.assistant.avatar_url };
    }
    if (f.language) this.state.language = f.language;
    this.welcomed = true;
    this.lastPong = this.env.now();
    this.state.status = "online";
    this.persist();
    this.changed();
    this.startPing();
    for (const p of this.saved.pending) {
      this.transmit(p);
    }
  }

  private event(f: EventFrame, live: boolean) {
    if (typeof f.seq !== "number") return;
    if (this.saved.conv && f.conversation_id && f.conversation_id !== this.saved.conv) return;
    const last = this.saved.last_seq;
    if (f.seq <= last) return; // already applied (replay and live overlap)
    if (f.seq > last + 1) {
      // Missed some: keep this one, ask for the gap, and fall back to the
      // history if the gap does not fill.
      this.early.set(f.seq, f);
      if (!this.gapTimer) {
        this.send({ type: "resume", last_seq: last });
        this.gapTimer = this.env.setTimeout(() => {
          this.gapTimer = null;
          if (this.early.size) void this.resync();
        }, GapWait);
      }
      return;
    }
    this.apply(f, live);
    let next: EventFrame | undefined;
    while ((next = this.early.get(this.saved.last_seq + 1))) {
      this.early.delete(next.seq);
      this.apply(next, live);
    }
    for (const s of this.early.keys()) if (s <= this.saved.last_seq) this.early.delete(s);
    if (!this.early.size && this.gapTimer) {
      this.env.clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
    this.persist();
  }

  private apply(f: EventFrame, live: boolean) {
    this.saved.last_seq = f.seq;
    let item: Item | undefined;
    if (f.kind === "message" && f.message) {
      const m = f.message;
      item = {
        key: m.id || "s" + f.seq,
        seq: f.seq,
        author: m.author,
        author_name: m.author_name,
        text: m.text,
        quick_replies: m.quick_replies,
        client_id: m.client_id,
        created_at: m.created_at,
      };
      if (m.author === "visitor" && m.client_id) {
        // The stored copy of a pending message replaces its bubble.
        this.state.items = this.state.items.filter((it) => !(it.pending && it.client_id === m.client_id));
        this.dropPending(m.client_id);
      }
      if (m.author === "agent") {
        this.state.agent = { name: m.author_name || this.state.agent?.name || "" };
      } else if (m.author === "bot") {
        this.state.agent = undefined;
      }
      if (m.author !== "visitor" && this.state.typing) {
        this.hideTyping();
      }
    } else if (f.kind === "agent_joined" && f.agent) {
      this.state.agent = { name: f.agent.name, avatar_url: f.agent.avatar_url };
    } else if (f.kind === "agent_left") {
      this.state.agent = undefined;
    } else if (f.kind === "closed") {
      this.state.status = "closed";
    }
    if (item) {
      const at = this.state.items.findIndex((it) => it.pending);
      // Stored messages go before pending ones, in seq order.
      if (at === -1) this.state.items.push(item);
      else this.state.items.splice(at, 0, item);
    }
    this.changed(live ? item : undefined);
  }

  private ack(f: { client_id: string; seq: number }) {
    // The event with this client_id replaces the bubble; the ack only ends
    // the retries. (Ack and event may come in either order.)
    this.dropPending(f.client_id);
    const it = this.state.items.find((i) => i.pending && i.client_id === f.client_id);
    if (it) {
      it.error = undefined;
    }
  }

  private dropPending(clientID: string) {
    const n = this.saved.pending.length;
    this.saved.pending = this.saved.pending.filter((p) => p.client_id !== clientID);
    if (n !== this.saved.pending.length) this.persist();
  }

  private typing(f: { author: Author; name?: string; on: boolean }) {
    if (f.author === "visitor") return;
    if (!f.on) return this.hideTyping();
    this.state.typing = { author: f.author, name: f.name };
    if (this.typingTimer) this.env.clearTimeout(this.typingTimer);
    this.typingTimer = this.env.setTimeout(() => this.hideTyping(), TypingHide);
    this.changed();
  }

  private hideTyping() {
    if (this.typingTimer) this.env.clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (this.state.typing) {
      this.state.typing = undefined;
      this.changed();
    }
  }

  private error(f: { code: string; message?: string; field?: string }) {
    switch (f.code) {
      case "conversation_closed":
        // The visitor wrote after the end: a new conversation starts on
        // reconnect (the token's conversation is closed), and the pending
        // message goes there.
        this.state.status = "closed";
        this.changed();
        this.reconnectNow();
        break;
      case "invalid_field": {
        // Not stored and not retryable: the newest pending message is the one.
        const p = this.saved.pending[0];
        if (p && (f.field === "text" || f.field === "client_id" || f.field === "quick_reply")) {
          this.saved.pending.shift();
          const it = this.state.items.find((i) => i.pending && i.client_id === p.client_id);
          if (it) it.error = f.message || "invalid";
          this.persist();
          this.changed();
        }
        break;
      }
      case "rate_limited":
      case "internal":
        this.env.setTimeout(() => {
          if (this.welcomed) for (const p of this.saved.pending) this.transmit(p);
        }, 1500 + this.env.random() * 1000);
        break;
    }
  }

  private async resync() {
    if (this.resyncing || !this.saved.token) return;
    this.resyncing = true;
    try {
      const h = await this.env.fetchHistory(this.saved.token);
      const pending = this.state.items.filter((it) => it.pending);
      this.state.items = [];
      this.saved.last_seq = 0;
      this.early.clear();
      for (const e of h.events || []) {
        if (e && typeof e.seq === "number" && e.seq > this.saved.last_seq) this.apply(e, false);
      }
      this.saved.last_seq = Math.max(this.saved.last_seq, h.last_seq || 0);
      this.state.items.push(...pending);
      this.persist();
      this.changed();
    } catch {
      // Try again on the next reconnect.
      this.reconnectNow();
    } finally {
      this.resyncing = false;
    }
  }

  private send(frame: Record<string, unknown>): boolean {
    if (this.ws && this.welcomed && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  private transmit(p: Pending) {
    const f: Record<string, unknown> = { type: "message", client_id: p.client_id, text: p.text };
    if (p.quick_reply) f.quick_reply = p.quick_reply;
    this.send(f);
  }

  /** say sends a message (a quick reply's label with its value). */
  say(text: string, quickReply?: string) {
    const t = text.trim();
    if (!t) return;
    const p: Pending = { client_id: "m-" + this.env.now().toString(36) + "-" + (++this.counter).toString(36) + "-" + Math.floor(this.env.random() * 1e6).toString(36), text: truncateUTF8(t, 4000) };
    if (quickReply) p.quick_reply = quickReply.slice(0, 64);
    this.saved.pending.push(p);
    this.state.items.push(pendingItem(p));
    this.persist();
    this.changed();
    if (this.idle || this.state.status === "closed") {
      this.reconnectNow();
    } else {
      this.transmit(p);
    }
  }

  private lastTypingSent = 0;
  private typingOn = false;
  /** setTyping relays the visitor's typing: on at most every 2 s, off once. */
  setTyping(on: boolean) {
    const now = this.env.now();
    if (on && (!this.typingOn || now - this.lastTypingSent > 2000)) {
      if (this.send({ type: "typing", on: true })) {
        this.typingOn = true;
        this.lastTypingSent = now;
      }
    } else if (!on && this.typingOn) {
      this.typingOn = false;
      this.send({ type: "typing", on: false });
    }
  }

  /** wake reconnects at once when the socket is down (back online, panel opened). */
  wake() {
    if (!this.ws && !this.stopped) this.reconnectNow();
  }

  private reconnectNow() {
    this.attempt = 0;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      this.stopPing();
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    this.clearRetry();
    this.connect();
  }

  private clearRetry() {
    if (this.retryTimer) this.env.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** backoff returns the wait before reconnect attempt n (full jitter). */
  backoff(n: number): number {
    const cap = Math.min(BackoffCap, BackoffBase * Math.pow(2, n));
    return Math.max(250, Math.floor(this.env.random() * cap));
  }

  private scheduleReconnect(code: number) {
    if (this.env.now() - this.openedAt > StableAfter) this.attempt = 0;
    let delay: number;
    switch (code) {
      case 1000:
        // Ended on purpose: come back when the visitor does.
        this.idle = true;
        if (this.state.status !== "closed") this.state.status = "offline";
        this.changed();
        return;
      case 1008:
      case 4000:
        // The page's setup is wrong, or a client bug: retrying will not help.
        this.stopped = true;
        this.state.status = "unavailable";
        this.changed();
        return;
      case 4001:
        if (!this.sentToken && this.sentIdentity) {
          // No token was sent, so the identity was refused: its signature
          // does not verify. The same one would be refused again.
          this.identityRefused = true;
          this.stopped = true;
          this.state.status = "unavailable";
          this.changed();
          console.warn("Frontdesk: the identity's signature was refused (see identify() in the docs)");
          return;
        }
        // The token is no good: drop it and start again, once, without it.
        this.saved.token = undefined;
        this.saved.conv = undefined;
        this.saved.last_seq = 0;
        this.state.items = this.state.items.filter((it) => it.pending);
        this.persist();
        delay = this.attempt === 0 ? 0 : this.backoff(this.attempt);
        break;
      case 1001:
        delay = Math.floor(this.env.random() * 1000);
        break;
      case 4008:
        delay = 10_000 + this.backoff(this.attempt);
        break;
      case 4011:
        delay = BackoffCap + this.backoff(this.attempt);
        break;
      default:
        delay = this.backoff(this.attempt);
    }
    this.attempt++;
    if (this.state.status !== "closed") this.state.status = "offline";
    this.changed();
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private startPing() {
    this.stopPing();
    const tick = () => {
      this.pingTimer = this.env.setTimeout(tick, PingEvery);
      if (this.env.now() - this.lastPong > 2 * PingEvery + 5000) {
        // No pong for two intervals: the connection is dead.
        const ws = this.ws;
        this.ws = null;
        this.stopPing();
        try {
          ws?.close(4010);
        } catch {
          // ignore
        }
        this.scheduleReconnect(4010);
        return;
      }
      this.send({ type: "ping" });
    };
    this.pingTimer = this.env.setTimeout(tick, PingEvery);
  }

  private stopPing() {
    if (this.pingTimer) this.env.clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  /** restart drops the finished conversation's view and connects again. */
  restart() {
    this.state.items = this.state.items.filter((it) => it.pending);
    this.state.status = "connecting";
    this.stopped = false;
    this.reconnectNow();
  }
}

function pendingItem(p: Pending): Item {
  return { key: p.client_id, author: "visitor", text: p.text, client_id: p.client_id, pending: true };
}

function truncateUTF8(s: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    const len = enc.encode(ch).length;
    if (n + len > max) break;
    out += ch;
    n += len;
  }
  return out;
}
