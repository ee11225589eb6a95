// The widget's side of the realtime contract, against a fake socket and a
// fake clock: resume with the token and last seq, no lost or doubled
// message across drops and reloads, same client_id on re-send, 4001, and
// backoff with jitter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Session, type Env, type SocketLike, type State, BackoffCap } from "../src/widget/frame/session.js";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(public url: string) {}
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.closed = true;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  recv(f: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

class Harness {
  sockets: FakeSocket[] = [];
  store = new Map<string, string>();
  now = 1_000_000;
  timers: { at: number; fn: () => void; id: number }[] = [];
  nextID = 1;
  rand = 0.5;
  history = { last_seq: 0, events: [] as Record<string, unknown>[] };
  env(): Env {
    return {
      connect: (url) => {
        const s = new FakeSocket(url);
        this.sockets.push(s);
        return s;
      },
      storage: {
        getItem: (k) => this.store.get(k) ?? null,
        setItem: (k, v) => void this.store.set(k, v),
        removeItem: (k) => void this.store.delete(k),
      },
      now: () => this.now,
      random: () => this.rand,
      setTimeout: (fn, ms) => {
        const id = this.nextID++;
        this.timers.push({ at: this.now + ms, fn, id });
        return id;
      },
      clearTimeout: (id) => {
        this.timers = this.timers.filter((t) => t.id !== id);
      },
      fetchHistory: async () => this.history as never,
    };
  }
  advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.now = t.at;
      t.fn();
    }
    this.now = end;
  }
  get last() {
    return this.sockets[this.sockets.length - 1];
  }
  session(onChange: (s: State) => void = () => {}) {
    return new Session({ storeKey: "fd:v1:pk_test", wsURL: "ws://x/api/v1/widget/ws?key=pk_test", locale: "en-US" }, this.env(), onChange);
  }
}

const msg = (seq: number, author: string, text: string, extra: Record<string, unknown> = {}) => ({
  type: "event",
  seq,
  conversation_id: "cv_1",
  kind: "message",
  message: { id: "m" + seq, author, text, created_at: "2025-01-01T00:00:00Z", ...extra },
});

test("a new visitor says hello without a token, then keeps the token and seq", () => {
  const h = new Harness();
  const s = h.session();
  s.start({ page_url: "https://shop.example/p", vars: { plan: "pro" } });
  h.last.open();
  assert.deepEqual(h.last.sent[0], { type: "hello", locale: "en-US", page_url: "https://shop.example/p", vars: { plan: "pro" } });
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 0, assistant: { name: "Ava" }, language: "en" });
  h.last.recv(msg(1, "bot", "Hi!"));
  h.last.recv(msg(2, "bot", "How can I help?", { quick_replies: [{ label: "Pricing", value: "pricing" }] }));
  assert.equal(s.state.items.length, 2);
  assert.equal(s.state.assistant.name, "Ava");
  const saved = JSON.parse(h.store.get("fd:v1:pk_test")!);
  assert.equal(saved.token, "tok1");
  assert.equal(saved.last_seq, 2);
});

test("a reload resumes from the saved seq and shows the same history, once", () => {
  const h = new Harness();
  const a = h.session();
  a.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv(msg(1, "bot", "Hi!"));
  h.last.recv(msg(2, "visitor", "hello", { client_id: "c1" }));
  // The page reloads: a new Session on the same storage.
  const b = h.session();
  assert.deepEqual(b.state.items.map((i) => i.text), ["Hi!", "hello"]);
  b.start({});
  h.last.open();
  assert.equal(h.last.sent[0].token, "tok1");
  assert.equal(h.last.sent[0].last_seq, 2);
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok2", last_seq: 3, assistant: { name: "Ava" } });
  // The server replays after 2; an overlapping live copy of 3 is dropped.
  h.last.recv(msg(3, "bot", "What's your email?"));
  h.last.recv(msg(3, "bot", "What's your email?"));
  h.last.recv(msg(2, "visitor", "hello"));
  assert.deepEqual(b.state.items.map((i) => i.seq), [1, 2, 3]);
});

test("a message sent while offline is re-sent with the same client_id and shown once", () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv(msg(1, "bot", "Hi!"));
  h.last.drop(1006);
  s.say("Do you ship to Norway?");
  const pending = s.state.items.find((i) => i.pending)!;
  assert.ok(pending.client_id);
  // The retry opens a new socket and re-sends after the welcome.
  h.advance(BackoffCap);
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 1, assistant: { name: "Ava" } });
  const sentMsgs = h.last.sent.filter((f) => f.type === "message");
  assert.equal(sentMsgs.length, 1);
  assert.equal(sentMsgs[0].client_id, pending.client_id);
  // The socket drops again before the ack; the message goes again, same id.
  h.last.drop(1006);
  h.advance(BackoffCap);
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 2, assistant: { name: "Ava" } });
  assert.equal(h.last.sent.filter((f) => f.type === "message")[0].client_id, pending.client_id);
  // The server stored it once (duplicate ack) and replays the stored copy.
  h.last.recv(msg(2, "visitor", "Do you ship to Norway?", { client_id: pending.client_id }));
  h.last.recv({ type: "ack", client_id: pending.client_id, seq: 2, duplicate: true });
  assert.deepEqual(s.state.items.map((i) => [i.seq, i.text, !!i.pending]), [
    [1, "Hi!", false],
    [2, "Do you ship to Norway?", false],
  ]);
  assert.deepEqual(JSON.parse(h.store.get("fd:v1:pk_test")!).pending, []);
});

test("a pending message survives a reload and is re-sent with its client_id", () => {
  const h = new Harness();
  const a = h.session();
  a.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 0, assistant: { name: "Ava" } });
  a.say("hello?");
  const id = (h.last.sent.find((f) => f.type === "message") as { client_id: string }).client_id;
  const b = h.session();
  assert.equal(b.state.items.filter((i) => i.pending).length, 1);
  b.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "tok1", last_seq: 0, assistant: { name: "Ava" } });
  assert.equal((h.last.sent.find((f) => f.type === "message") as { client_id: string }).client_id, id);
});

test("4001 drops the token and reconnects at once without it", () => {
  const h = new Harness();
  h.store.set("fd:v1:pk_test", JSON.stringify({ token: "forged", conv: "cv_9", last_seq: 0, items: [], pending: [] }));
  const s = h.session();
  s.start({});
  h.last.open();
  assert.equal(h.last.sent[0].token, "forged");
  h.last.drop(4001);
  h.advance(0);
  assert.equal(h.sockets.length, 2);
  h.last.open();
  assert.equal(h.last.sent[0].token, undefined);
});

test("4001 on a hello with an identity and no token: the identity is refused, the widget stops until identify() gives another", () => {
  const h = new Harness();
  h.store.set("fd:v1:pk_test", JSON.stringify({ token: "tok-anon", conv: "cv_1", last_seq: 0, items: [], pending: [] }));
  const s = h.session();
  const warn = console.warn;
  const warned: unknown[] = [];
  console.warn = (...a: unknown[]) => void warned.push(a);
  try {
    const bad = { id: "user_829", signature: "00ff" };
    s.start({ identity: bad });
    h.last.open();
    assert.deepEqual(h.last.sent[0].identity, bad);
    assert.equal(h.last.sent[0].token, "tok-anon");
    // With a token, 4001 may be the token's fault: dropped, retried at once.
    h.last.drop(4001);
    h.advance(0);
    assert.equal(h.sockets.length, 2);
    h.last.open();
    assert.equal(h.last.sent[0].token, undefined);
    assert.deepEqual(h.last.sent[0].identity, bad);
    // Without one, it is the identity's: no retry, the chat is unavailable.
    h.last.drop(4001);
    h.advance(10 * BackoffCap);
    assert.equal(h.sockets.length, 2);
    assert.equal(s.state.status, "unavailable");
    assert.equal(warned.length, 1);
    s.wake();
    assert.equal(h.sockets.length, 2, "opening the chat does not retry the same signature");
    // identify() with another signature connects again.
    const good = { id: "user_829", signature: "ab".repeat(32) };
    s.setExtras({ identity: good });
    assert.equal(h.sockets.length, 3);
    h.last.open();
    assert.deepEqual(h.last.sent[0].identity, good);
    h.last.recv({ type: "welcome", conversation_id: "cv_2", token: "tok-ada", last_seq: 0, assistant: { name: "Ava" } });
    assert.equal(s.state.status, "online");
  } finally {
    console.warn = warn;
  }
});

test("1008 stops: the page's setup is wrong", () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.drop(1008);
  h.advance(10 * BackoffCap);
  assert.equal(h.sockets.length, 1);
  assert.equal(s.state.status, "unavailable");
});

test("reconnects back off exponentially with full jitter, capped", () => {
  const h = new Harness();
  const s = h.session();
  h.rand = 0.999;
  assert.ok(s.backoff(0) <= 1000);
  assert.ok(s.backoff(3) > 7000 && s.backoff(3) <= 8000);
  assert.ok(s.backoff(20) <= BackoffCap);
  h.rand = 0;
  assert.equal(s.backoff(5), 250); // a floor, so a flood of retries cannot spin
});

test("a gap asks for a resume and applies the early event after it", () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "t", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv(msg(1, "bot", "one"));
  h.last.recv(msg(3, "bot", "three"));
  assert.deepEqual(h.last.sent[h.last.sent.length - 1], { type: "resume", last_seq: 1 });
  assert.deepEqual(s.state.items.map((i) => i.seq), [1]);
  h.last.recv(msg(2, "bot", "two"));
  assert.deepEqual(s.state.items.map((i) => i.seq), [1, 2, 3]);
});

test("resync reloads the history", async () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "t", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv(msg(1, "bot", "one"));
  h.history = { last_seq: 250, events: [msg(249, "bot", "old"), msg(250, "visitor", "new")] };
  h.last.recv({ type: "resync", reason: "gap_too_old" });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(s.state.items.map((i) => i.seq), [249, 250]);
  h.last.recv(msg(250, "visitor", "new"));
  h.last.recv(msg(251, "bot", "next"));
  assert.deepEqual(s.state.items.map((i) => i.seq), [249, 250, 251]);
});

test("an agent's messages put the agent's name in the header; the bot's take it back", () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "t", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv({ type: "typing", author: "agent", name: "Sam", on: true });
  assert.deepEqual(s.state.typing, { author: "agent", name: "Sam" });
  h.last.recv(msg(1, "agent", "Hi, Sam here", { author_name: "Sam" }));
  assert.equal(s.state.agent?.name, "Sam");
  assert.equal(s.state.typing, undefined);
  h.last.recv({ type: "event", seq: 2, conversation_id: "cv_1", kind: "agent_left", agent: { name: "Sam" } });
  assert.equal(s.state.agent, undefined);
});

test("a closed conversation starts a new one on the next message, which goes there", () => {
  const h = new Harness();
  const s = h.session();
  s.start({});
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "t", last_seq: 0, assistant: { name: "Ava" } });
  h.last.recv(msg(1, "bot", "Bye"));
  s.say("one more thing");
  h.last.recv({ type: "error", code: "conversation_closed", message: "closed" });
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_2", token: "t2", last_seq: 0, assistant: { name: "Ava" } });
  const m = h.last.sent.filter((f) => f.type === "message");
  assert.equal(m.length, 1);
  assert.equal(m[0].text, "one more thing");
  assert.deepEqual(s.state.items.map((i) => i.text), ["one more thing"]);
});

test("a lazy start holds no socket until the chat opens, unless there is a chat to resume", () => {
  const h = new Harness();
  const s = h.session();
  s.start({}, true);
  h.advance(60_000);
  assert.equal(h.sockets.length, 0);
  s.wake();
  assert.equal(h.sockets.length, 1);
  h.last.open();
  h.last.recv({ type: "welcome", conversation_id: "cv_1", token: "t", last_seq: 0, assistant: { name: "Ava" } });
  // The next page view resumes at once: agents' messages must arrive.
  const next = h.session();
  next.start({}, true);
  assert.equal(h.sockets.length, 2);
});
