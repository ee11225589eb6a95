// Pure helpers over the workflow graph: ports, defaults for new nodes,
// summaries for the canvas, renames, a client-side diff, and the rune
// offsets of diagnostics.
import type { GEdge, GNode, Graph, HTTPCallConfig, Kind, Text, VarType } from "../types";

/** kinds in the palette's order: engine.Kinds. */
export const kinds: Kind[] = ["greet", "message", "collect", "faq", "llm_answer", "handover", "offline_capture", "branch", "set_variable", "http_call", "end"];

export const kindInfo: Record<Kind, { label: string; about: string; color: string }> = {
  greet: { label: "Greet", about: "The first message, with quick replies", color: "#2f5bea" },
  message: { label: "Message", about: "A bot message: rich text, quick replies", color: "#3b82f6" },
  collect: { label: "Collect", about: "Ask for fields, validate, re-ask", color: "#0d9488" },
  faq: { label: "FAQ", about: "Answer from the knowledge base's FAQ", color: "#7c3aed" },
  llm_answer: { label: "LLM answer", about: "Answer with the LLM and the knowledge base", color: "#9333ea" },
  handover: { label: "Handover", about: "Queue the chat for an agent", color: "#ea580c" },
  offline_capture: { label: "Offline capture", about: "Take contact details, make a lead", color: "#d97706" },
  branch: { label: "Branch", about: "Route on conditions", color: "#64748b" },
  set_variable: { label: "Set variable", about: "Set variables from expressions", color: "#475569" },
  http_call: { label: "HTTP call", about: "Call an API, map the response", color: "#0891b2" },
  end: { label: "End", about: "End the chat", color: "#dc2626" },
};

/** ports mirrors engine.Ports: the first is the default port. */
export function ports(k: Kind): string[] {
  switch (k) {
    case "greet":
    case "message":
    case "branch":
    case "set_variable":
      return ["next"];
    case "collect":
      return ["done", "invalid"];
    case "faq":
      return ["matched", "not_matched"];
    case "llm_answer":
      return ["answered", "handover"];
    case "handover":
      return ["claimed", "timed_out"];
    case "offline_capture":
      return ["done"];
    case "http_call":
      return ["success", "failure"];
    case "end":
      return [];
  }
}

export function edgePort(g: Graph, e: GEdge): string {
  if (e.port) return e.port;
  const from = g.nodes.find((n) => n.id === e.from);
  return from ? ports(from.kind)[0] || "" : "";
}

export function languagesOf(g: Graph): string[] {
  const d = g.default_language || "en";
  return [d, ...(g.languages || []).filter((l) => l !== d)];
}

function t(g: Graph, s: string): Text {
  return { [g.default_language || "en"]: s };
}

/** newNode returns a node of the kind with the settings it requires. */
export function newNode(g: Graph, kind: Kind, position: { x: number; y: number }): GNode {
  const id = uniqueID(g.nodes.map((n) => n.id), kind);
  const n: GNode = { id, kind, position };
  switch (kind) {
    case "greet":
      n.greet = { text: t(g, "Hi! How can I help?") };
      break;
    case "message":
      n.message = { text: t(g, "Here is what I found.") };
      break;
    case "collect":
      n.collect = { fields: [{ var: "email", type: "email", prompt: t(g, "What's your email?") }] };
      break;
    case "faq":
      n.faq = {};
      break;
    case "llm_answer":
      n.llm_answer = {};
      break;
    case "handover":
      n.handover = { wait_seconds: 120, online_text: t(g, "Connecting you to someone from our team…"), offline_text: t(g, "Nobody is available right now.") };
      break;
    case "offline_capture":
      n.offline_capture = {
        fields: [{ var: "email", type: "email", prompt: t(g, "What's your email?") }],
        confirm: t(g, "Thanks! We'll get back to you."),
      };
      break;
    case "branch":
      n.branch = {};
      break;
    case "set_variable":
      n.set_variable = { assignments: [{ var: "flag", value: "true" }] };
      break;
    case "http_call":
      n.http_call = { method: "GET", url: "https://example.com/api" };
      break;
    case "end":
      n.end = {};
      break;
  }
  return n;
}

export function uniqueID(taken: string[], base: string): string {
  const set = new Set(taken);
  const clean = base.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 56) || "n";
  if (!set.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = clean + "_" + i;
    if (!set.has(id)) return id;
  }
}

export const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

/** renameNode changes a node's id everywhere it is named. */
export function renameNode(g: Graph, from: string, to: string): Graph {
  const r = (id: string) => (id === from ? to : id);
  return {
    ...g,
    start: r(g.start),
    nodes: g.nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: g.edges.map((e) => ({ ...e, from: r(e.from), to: r(e.to) })),
    global_rules: g.global_rules?.map((x) => ({ ...x, to: r(x.to) })),
    loop_breaker: g.loop_breaker ? { ...g.loop_breaker, to: r(g.loop_breaker.to) } : undefined,
  };
}

/** VarInfo is a variable the graph knows: declared, or set by a node. */
export interface VarInfo {
  name: string;
  /** "expression" for a set_variable value: its type is its expression's. */
  type: VarType | "expression";
  /** where it comes from, for people: "declared", "collect node ask" */
  from: string;
  /** key names the one place that sets it, so a form can leave itself out */
  key: string;
}

/** knownVariables lists the variables conditions can read (as
 * engine.declareVariables and set_variable do), one per name, by name,
 * leaving out the place named by exclude (the field being edited). */
export function knownVariables(g: Graph, exclude?: string): VarInfo[] {
  const all: VarInfo[] = [];
  for (const v of g.variables || []) all.push({ name: v.name, type: v.type, from: "declared", key: "decl:" + v.name });
  for (const n of g.nodes) {
    const at = (what: string, i: number | string) => n.id + "/" + what + "/" + i;
    const save = n.greet?.save_as || n.message?.save_as;
    if (save) all.push({ name: save, type: "string", from: n.kind + " " + n.id, key: at("save_as", 0) });
    (n.collect?.fields || []).forEach((f, i) => all.push({ name: f.var, type: f.type === "number" ? "number" : "string", from: "collect " + n.id, key: at("field", i) }));
    (n.offline_capture?.fields || []).forEach((f, i) => all.push({ name: f.var, type: "string", from: "capture " + n.id, key: at("field", i) }));
    (n.set_variable?.assignments || []).forEach((a, i) => all.push({ name: a.var, type: "expression", from: "set " + n.id, key: at("set", i) }));
    (((n.http_call as HTTPCallConfig | undefined)?.map) || []).forEach((m, i) => all.push({ name: m.var, type: m.type || "string", from: "http " + n.id, key: at("map", i) }));
  }
  const seen = new Map<string, VarInfo>();
  for (const v of all) {
    if (!v.name || v.key === exclude || seen.has(v.name)) continue;
    seen.set(v.name, v);
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** varPattern is engine's variable name syntax. */
export const varPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** moveEdge swaps an edge with its neighbour among the edges leaving the
 * same port (dir -1: earlier, tried first), keeping every other edge's
 * place in the graph's list. */
export function moveEdge(g: Graph, id: string, dir: -1 | 1): Graph {
  const e = g.edges.find((x) => x.id === id);
  if (!e) return g;
  const port = edgePort(g, e);
  const siblings = g.edges.filter((x) => x.from === e.from && edgePort(g, x) === port);
  const other = siblings[siblings.findIndex((x) => x.id === id) + dir];
  if (!other) return g;
  const edges = g.edges.slice();
  const a = edges.findIndex((x) => x.id === id);
  const b = edges.findIndex((x) => x.id === other.id);
  [edges[a], edges[b]] = [edges[b], edges[a]];
  return { ...g, edges };
}

/** mainText is the text a node shows on the canvas. */
export function mainText(n: GNode, lang: string): string {
  const pick = (x?: Text) => (x ? x[lang] || Object.values(x)[0] || "" : "");
  switch (n.kind) {
    case "greet":
      return pick(n.greet?.text);
    case "message":
      return pick(n.message?.text);
    case "collect":
      return (n.collect?.fields || []).map((f) => f.var + " (" + f.type + ")").join(", ");
    case "faq":
      return pick(n.faq?.prompt) || "Answers from the FAQ";
    case "llm_answer":
      return pick(n.llm_answer?.prompt) || "Answers with the LLM";
    case "handover":
      return pick(n.handover?.online_text) + " · " + (n.handover?.wait_seconds || 120) + " s";
    case "offline_capture":
      return (n.offline_capture?.create || "lead") + ": " + (n.offline_capture?.fields || []).map((f) => f.var).join(", ");
    case "branch":
      return "Routes on conditions";
    case "http_call": {
      const h = n.http_call as HTTPCallConfig | undefined;
      return (h?.method || "") + " " + (h?.url || "");
    }
    case "set_variable":
      return (n.set_variable?.assignments || []).map((a) => a.var + " = " + a.value).join("; ");
    case "end":
      return pick(n.end?.text) || "End of the chat";
  }
}

export function quickReplies(n: GNode, lang: string): string[] {
  const q = n.greet?.quick_replies || n.message?.quick_replies || [];
  return q.map((r) => r.label[lang] || Object.values(r.label)[0] || r.value);
}

/** runeRange turns a diagnostic's rune offsets into UTF-16 string indices. */
export function runeRange(s: string, offset = 0, end = 0): [number, number] {
  const runes = Array.from(s);
  const o = Math.min(Math.max(0, offset), runes.length);
  let e = Math.min(Math.max(o, end), runes.length);
  if (e === o) e = Math.min(o + 1, runes.length); // a point: mark one character
  const from = runes.slice(0, o).join("").length;
  const to = runes.slice(0, e).join("").length;
  return [from, Math.max(to, from)];
}

export interface GraphDiff {
  nodesAdded: string[];
  nodesRemoved: string[];
  nodesChanged: string[];
  edgesAdded: string[];
  edgesRemoved: string[];
  edgesChanged: string[];
  other: string[];
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.keys(x)
          .sort()
          .reduce((o, k) => ((o[k] = (x as Record<string, unknown>)[k]), o), {} as Record<string, unknown>)
      : x,
  );

/** diffGraphs compares two graphs, ignoring node positions. */
export function diffGraphs(before: Graph | undefined, after: Graph): GraphDiff {
  const d: GraphDiff = { nodesAdded: [], nodesRemoved: [], nodesChanged: [], edgesAdded: [], edgesRemoved: [], edgesChanged: [], other: [] };
  const b = before || { start: "", nodes: [], edges: [] };
  const strip = (n: GNode) => ({ ...n, position: undefined });
  const bn = new Map(b.nodes.map((n) => [n.id, n]));
  const an = new Map(after.nodes.map((n) => [n.id, n]));
  for (const [id, n] of an) {
    const o = bn.get(id);
    if (!o) d.nodesAdded.push(id);
    else if (stable(strip(o)) !== stable(strip(n))) d.nodesChanged.push(id);
  }
  for (const id of bn.keys()) if (!an.has(id)) d.nodesRemoved.push(id);
  const be = new Map(b.edges.map((e) => [e.id, e]));
  const ae = new Map(after.edges.map((e) => [e.id, e]));
  for (const [id, e] of ae) {
    const o = be.get(id);
    if (!o) d.edgesAdded.push(id);
    else if (stable(o) !== stable(e)) d.edgesChanged.push(id);
  }
  for (const id of be.keys()) if (!ae.has(id)) d.edgesRemoved.push(id);
  if (b.start !== after.start) d.other.push("start node");
  if (stable(b.global_rules || []) !== stable(after.global_rules || [])) d.other.push("global rules");
  if (stable(b.loop_breaker || null) !== stable(after.loop_breaker || null)) d.other.push("loop breaker");
  if (stable(b.languages || []) !== stable(after.languages || []) || (b.default_language || "en") !== (after.default_language || "en")) d.other.push("languages");
  if (stable(b.variables || []) !== stable(after.variables || [])) d.other.push("variables");
  return d;
}

export function diffEmpty(d: GraphDiff): boolean {
  return Object.values(d).every((x) => x.length === 0);
}
