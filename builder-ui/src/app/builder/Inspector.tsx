// The inspector edits what is selected: a node (a form per kind, with its
// settings as JSON under "Advanced"), an edge (port, target, condition,
// order), or, with nothing selected, the graph's own settings, declared
// variables and global rules.
import { useEffect, useRef, useState } from "react";
import type { Diagnostic } from "../api";
import type { Field, GEdge, GNode, Graph, HTTPCallConfig, QuickReply, ResponseMapping, Rule, Text, VarType } from "../types";
import { TextField } from "../ui";
import { ConditionEditor } from "./ConditionEditor";
import { edgePort, idPattern, kindInfo, knownVariables, languagesOf, moveEdge, ports, renameNode, uniqueID, varPattern, type VarInfo } from "./graph";
import { NodeOptions, loopBreakerTargets } from "./NodeOptions";

type Change = (fn: (g: Graph) => Graph, opts?: { history?: boolean; key?: string }) => void;

export type Selection = { type: "node"; id: string } | { type: "edge"; id: string } | null;

interface Props {
  graph: Graph;
  selection: Selection;
  select(s: Selection): void;
  change: Change;
  diagnostics: Diagnostic[];
  checking: boolean;
}

export function Inspector(p: Props) {
  const { graph, selection } = p;
  if (selection?.type === "node") {
    const n = graph.nodes.find((x) => x.id === selection.id);
    if (n) return <NodeInspector {...p} node={n} />;
  }
  if (selection?.type === "edge") {
    const e = graph.edges.find((x) => x.id === selection.id);
    if (e) return <EdgeInspector {...p} edge={e} />;
  }
  return <GraphInspector {...p} />;
}

const isCondition = (d: Diagnostic) => d.code.startsWith("condition") || (d.field || "").includes("condition") || d.offset !== undefined;

/** fieldDiags picks the diagnostics of a settings field and what is inside
 * it ("http_call.map" also takes "http_call.map[0].path"). */
const fieldDiags = (diags: Diagnostic[], field: string) =>
  diags.filter((d) => d.field === field || (d.field || "").startsWith(field + ".") || (d.field || "").startsWith(field + "["));

/** inlineField reports whether a kind's form shows a field's diagnostics
 * beside the field, so the node's list above the form leaves them out. */
function inlineField(kind: GNode["kind"], field: string | undefined): boolean {
  if (!field) return false;
  if (kind === "set_variable") return field.startsWith("set_variable.assignments[");
  if (kind === "http_call") return field.startsWith("http_call.");
  return false;
}

function updateNode(change: Change, id: string, fn: (n: GNode) => GNode, key?: string) {
  change((g) => ({ ...g, nodes: g.nodes.map((n) => (n.id === id ? fn(n) : n)) }), { key: key && id + ":" + key });
}

function NodeInspector({ graph, node, change, select, diagnostics, checking }: Props & { node: GNode }) {
  const langs = languagesOf(graph);
  const [id, setId] = useState(node.id);
  const [idError, setIdError] = useState("");
  useEffect(() => {
    setId(node.id);
    setIdError("");
  }, [node.id]);
  const diags = diagnostics.filter((d) => d.node === node.id && !d.edge);
  const listed = diags.filter((d) => !inlineField(node.kind, d.field));
  const set = <K extends keyof GNode>(k: K, v: GNode[K], key?: string) => updateNode(change, node.id, (n) => ({ ...n, [k]: v }), key || String(k));
  function rename() {
    if (id === node.id) return;
    if (!idPattern.test(id)) return setIdError("1 to 64 letters, digits, _ . : -");
    if (graph.nodes.some((n) => n.id === id)) return setIdError("another node has this id");
    change((g) => renameNode(g, node.id, id));
    select({ type: "node", id });
  }
  const out = graph.edges.filter((e) => e.from === node.id);
  return (
    <div className="inspector" data-testid="inspector">
      <div className="insp-head">
        <span className="kind" style={{ color: kindInfo[node.kind].color }}>
          {kindInfo[node.kind].label}
        </span>
        {graph.start === node.id ? (
          <span className="start">start</span>
        ) : (
          <button className="linkish" onClick={() => change((g) => ({ ...g, start: node.id }))}>
            Make start
          </button>
        )}
      </div>
      <label>
        Id
        <input value={id} onChange={(e) => setId(e.target.value)} onBlur={rename} onKeyDown={(e) => e.key === "Enter" && rename()} aria-invalid={!!idError} />
      </label>
      {idError && <div className="diag error">{idError}</div>}
      <label>
        Label
        <input value={node.label || ""} placeholder="shown on the canvas" onChange={(e) => set("label", e.target.value || undefined)} />
      </label>
      {listed.map((d, i) => (
        <div key={i} className={"diag " + d.severity}>
          {d.field ? d.field + ": " : ""}
          {d.message}
        </div>
      ))}
      <KindForm node={node} langs={langs} set={set} ctx={{ graph, change, select, diagnostics, checking, diags }} />
      <details className="advanced">
        <summary>Advanced (JSON)</summary>
        <JSONSettings node={node} set={set} />
      </details>
      {/* A branch's edges are its routes, edited in its form above. */}
      {node.kind !== "branch" && (
        <>
          <h4>Edges out</h4>
          {ports(node.kind).map((port) => {
            const list = out.filter((e) => edgePort(graph, e) === port);
            return (
              <div key={port} className="portlist">
                <div className="muted small">{port}</div>
                {list.length === 0 && <div className="muted small">no edge: drag from the “{port}” handle</div>}
                <ol>
                  {list.map((e) => (
                    <li key={e.id}>
                      <button className="linkish" onClick={() => select({ type: "edge", id: e.id })}>
                        → {e.to}
                        {e.condition ? ": " + e.condition : " (default)"}
                      </button>
                    </li>
                  ))}
                </ol>
              </div>
            );
          })}
        </>
      )}
      <button
        className="danger"
        onClick={() => {
          change((g) => ({ ...g, nodes: g.nodes.filter((n) => n.id !== node.id), edges: g.edges.filter((e) => e.from !== node.id && e.to !== node.id) }));
          select(null);
        }}
      >
        Delete node
      </button>
    </div>
  );
}

type Setter = <K extends keyof GNode>(k: K, v: GNode[K], key?: string) => void;

/** FormContext is what the forms that reach past their node need: the
 * graph (variables, edges), the diagnostics, and the ways to change it. */
interface FormContext {
  graph: Graph;
  change: Change;
  select(s: Selection): void;
  diagnostics: Diagnostic[];
  checking: boolean;
  /** diags are the node's own diagnostics (not its edges'). */
  diags: Diagnostic[];
}

function KindForm({ node, langs, set, ctx }: { node: GNode; langs: string[]; set: Setter; ctx: FormContext }) {
  switch (node.kind) {
    case "greet": {
      const c = node.greet || { text: {} };
      const up = (v: Partial<typeof c>, key: string) => set("greet", { ...c, ...v }, key);
      return (
        <>
          <TextField label="Text" required value={c.text} languages={langs} onChange={(v) => up({ text: v || {} }, "text")} />
          <TextField label="Text while no agent is online" value={c.offline_text} languages={langs} onChange={(v) => up({ offline_text: v }, "offline_text")} />
          <QuickReplies value={c.quick_replies} langs={langs} onChange={(v) => up({ quick_replies: v }, "qr")} />
          <Check label="Wait for a reply" value={!!c.await_reply} onChange={(v) => up({ await_reply: v || undefined }, "await")} />
          <Input label="Save the reply as variable" value={c.save_as || ""} onChange={(v) => up({ save_as: v || undefined }, "save_as")} />
        </>
      );
    }
    case "message": {
      const c = node.message || { text: {} };
      const up = (v: Partial<typeof c>, key: string) => set("message", { ...c, ...v }, key);
      return (
        <>
          <TextField label="Text (bold, italics, links, lists)" required value={c.text} languages={langs} onChange={(v) => up({ text: v || {} }, "text")} />
          <QuickReplies value={c.quick_replies} langs={langs} onChange={(v) => up({ quick_replies: v }, "qr")} />
          <Check label="Wait for a reply" value={!!c.await_reply} onChange={(v) => up({ await_reply: v || undefined }, "await")} />
          <Input label="Save the reply as variable" value={c.save_as || ""} onChange={(v) => up({ save_as: v || undefined }, "save_as")} />
          <Num label="Typing delay (ms)" value={c.delay_ms} min={0} max={10000} onChange={(v) => up({ delay_ms: v }, "delay")} />
        </>
      );
    }
    case "collect": {
      const c = node.collect || { fields: [] };
      const up = (v: Partial<typeof c>, key: string) => set("collect", { ...c, ...v }, key);
      return (
        <>
          <Fields value={c.fields} langs={langs} onChange={(v) => up({ fields: v }, "fields")} />
          <Num label="Retries (0 = 2)" value={c.retries} min={0} max={10} onChange={(v) => up({ retries: v }, "retries")} />
        </>
      );
    }
    case "handover": {
      const c = node.handover || { online_text: {}, offline_text: {} };
      const up = (v: Partial<typeof c>, key: string) => set("handover", { ...c, ...v }, key);
      return (
        <>
          <Num label="Wait for a claim (seconds)" value={c.wait_seconds} min={0} max={86400} onChange={(v) => up({ wait_seconds: v }, "wait")} />
          <TextField label="Online text" required value={c.online_text} languages={langs} onChange={(v) => up({ online_text: v || {} }, "online")} />
          <TextField label="Offline text" required value={c.offline_text} languages={langs} onChange={(v) => up({ offline_text: v || {} }, "offline")} />
          <TextField label="Agent joined ({{agent.name}})" value={c.joined_text} languages={langs} onChange={(v) => up({ joined_text: v }, "joined")} />
        </>
      );
    }
    case "offline_capture": {
      const c = node.offline_capture || { fields: [], confirm: {} };
      const up = (v: Partial<typeof c>, key: string) => set("offline_capture", { ...c, ...v }, key);
      return (
        <>
          <label>
            Creates
            <select value={c.create || "lead"} onChange={(e) => up({ create: e.target.value as "lead" | "deal" }, "create")}>
              <option value="lead">a lead</option>
              <option value="deal">a deal</option>
            </select>
          </label>
          <TextField label="Intro" value={c.intro} languages={langs} onChange={(v) => up({ intro: v }, "intro")} />
          <Fields value={c.fields} langs={langs} onChange={(v) => up({ fields: v }, "fields")} captureVars />
          <TextField label="Confirmation" required value={c.confirm} languages={langs} onChange={(v) => up({ confirm: v || {} }, "confirm")} />
          <Num label="Retries (0 = 2)" value={c.retries} min={0} max={10} onChange={(v) => up({ retries: v }, "retries")} />
        </>
      );
    }
    case "faq":
    case "llm_answer": {
      const c = node[node.kind] || {};
      const up = (v: Partial<typeof c>, key: string) => set(node.kind as "faq", { ...c, ...v }, key);
      return (
        <>
          <TextField label="Prompt (sent on entering)" value={c.prompt} languages={langs} onChange={(v) => up({ prompt: v }, "prompt")} />
          <TextField label="When there is no answer" value={c.no_match} languages={langs} onChange={(v) => up({ no_match: v }, "no_match")} />
        </>
      );
    }
    case "end": {
      const c = node.end || {};
      return <TextField label="Last message" value={c.text} languages={langs} onChange={(v) => set("end", { text: v }, "text")} />;
    }
    case "branch":
      return <BranchForm node={node} ctx={ctx} />;
    case "set_variable":
      return <SetVariableForm node={node} set={set} ctx={ctx} />;
    case "http_call":
      return <HTTPCallForm node={node} set={set} ctx={ctx} />;
  }
}

/** JSONSettings edits the node's settings as JSON, for what the forms do
 * not reach. It follows the form's edits while it is not being typed in. */
function JSONSettings({ node, set }: { node: GNode; set: Setter }) {
  const k = node.kind as keyof GNode;
  const current = JSON.stringify(node[k] ?? {}, null, 2);
  const [text, setText] = useState(current);
  const [err, setErr] = useState("");
  const typing = useRef(false);
  useEffect(() => {
    if (typing.current) return;
    setText(current);
    setErr("");
  }, [current]);
  return (
    <label>
      Settings of the {kindInfo[node.kind].label.toLowerCase()} node
      <textarea
        className="mono"
        rows={8}
        value={text}
        aria-label="Settings (JSON)"
        onFocus={() => (typing.current = true)}
        onBlur={() => {
          typing.current = false;
          if (!err) setText(current);
        }}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = JSON.parse(e.target.value);
            if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("an object is expected");
            setErr("");
            set(k, v as never, "raw");
          } catch (x) {
            setErr(x instanceof Error ? x.message : String(x));
          }
        }}
      />
      {err && <div className="diag error">{err}</div>}
    </label>
  );
}

/** BranchForm edits a branch's routes: its edges, in the order they are
 * tried, each with its condition; the one without a condition is the
 * default and belongs last. (A branch has no settings of its own.) */
function BranchForm({ node, ctx }: { node: GNode; ctx: FormContext }) {
  const { graph, change, select, diagnostics, checking } = ctx;
  const routes = graph.edges.filter((e) => e.from === node.id);
  const firstDefault = routes.findIndex((e) => !e.condition);
  const targets = graph.nodes.filter((n) => n.id !== node.id);
  const upd = (id: string, v: Partial<GEdge>, key?: string) =>
    change((g) => ({ ...g, edges: g.edges.map((e) => (e.id === id ? clean({ ...e, ...v }) : e)) }), { key: key && "edge:" + id + ":" + key });
  /** add puts a new route before the default, so the default stays last. */
  function add(condition: string) {
    const to = targets.find((n) => !routes.some((e) => e.to === n.id))?.id || targets[0]?.id;
    if (!to) return;
    change((g) => {
      const id = uniqueID(
        g.edges.map((e) => e.id),
        node.id + "-" + to,
      );
      const edge: GEdge = condition ? { id, from: node.id, to, condition } : { id, from: node.id, to };
      const edges = g.edges.slice();
      const def = condition ? edges.findIndex((e) => e.from === node.id && !e.condition) : -1;
      if (def >= 0) edges.splice(def, 0, edge);
      else edges.push(edge);
      return { ...g, edges };
    });
  }
  return (
    <fieldset className="sub routes" data-testid="branch-routes">
      <legend>Routes, tried in order</legend>
      <div className="muted small">
        The first route whose condition holds is taken. Helpers: <code>business_hours</code>, <code>agents.online</code>, <code>visitor.is_new</code>, <code>vars.NAME</code>.
      </div>
      {routes.length === 0 && <div className="diag warning">No route yet: a branch needs at least a default route.</div>}
      {routes.map((e, i) => {
        const diags = diagnostics.filter((d) => d.edge === e.id);
        const unreachable = firstDefault >= 0 && i > firstDefault;
        return (
          <div key={e.id} className={"field-box route" + (e.condition ? "" : " default")} data-testid={"route-" + e.id}>
            <div className="row">
              <span className="route-n">{i + 1}.</span>
              <label className="inline">
                go to
                <select aria-label={"Route " + (i + 1) + " target"} value={e.to} onChange={(x) => upd(e.id, { to: x.target.value })}>
                  <NodeOptions nodes={graph.nodes} />
                </select>
              </label>
              <button className="icon" aria-label={"Move route " + (i + 1) + " up"} title="Try earlier" disabled={i === 0} onClick={() => change((g) => moveEdge(g, e.id, -1))}>
                ↑
              </button>
              <button className="icon" aria-label={"Move route " + (i + 1) + " down"} title="Try later" disabled={i === routes.length - 1} onClick={() => change((g) => moveEdge(g, e.id, 1))}>
                ↓
              </button>
              <button className="icon" aria-label={"Remove route " + (i + 1)} onClick={() => change((g) => ({ ...g, edges: g.edges.filter((x) => x.id !== e.id) }))}>
                ×
              </button>
            </div>
            <ConditionEditor
              label={"Route " + (i + 1) + " condition"}
              value={e.condition || ""}
              onChange={(v) => upd(e.id, { condition: v || undefined }, "cond")}
              diagnostics={diags.filter(isCondition)}
              checking={checking}
              placeholder="otherwise (the default route)"
            />
            {diags
              .filter((d) => !isCondition(d))
              .map((d, j) => (
                <div key={j} className={"diag " + d.severity}>
                  {d.message}
                </div>
              ))}
            {unreachable && <div className="diag warning">Never taken: route {firstDefault + 1} before it has no condition.</div>}
            <button className="linkish small" onClick={() => select({ type: "edge", id: e.id })}>
              Select the edge
            </button>
          </div>
        );
      })}
      <div className="row">
        <button className="linkish" onClick={() => add("agents.online > 0")} disabled={targets.length === 0}>
          + Add a condition
        </button>
        {firstDefault < 0 && (
          <button className="linkish" onClick={() => add("")} disabled={targets.length === 0}>
            + Add the default route
          </button>
        )}
      </div>
    </fieldset>
  );
}

/** SetVariableForm edits the assignments: a variable (picked among those
 * the graph knows, or a new one) and an expression for its value. */
function SetVariableForm({ node, set, ctx }: { node: GNode; set: Setter; ctx: FormContext }) {
  const list = node.set_variable?.assignments || [];
  const put = (next: typeof list, key?: string) => set("set_variable", { assignments: next }, key);
  const up = (i: number, v: Partial<(typeof list)[number]>, key?: string) => put(list.map((a, j) => (j === i ? { ...a, ...v } : a)), key && key + ":" + i);
  const move = (i: number, dir: -1 | 1) => {
    const next = list.slice();
    [next[i], next[i + dir]] = [next[i + dir], next[i]];
    put(next);
  };
  return (
    <fieldset className="sub" data-testid="assignments">
      <legend>Assignments, in order</legend>
      <div className="muted small">
        A value is an expression: <code>"text"</code>, <code>42</code>, <code>true</code>, <code>vars.budget * 1.2</code>. Its type is the variable's.
      </div>
      {list.length === 0 && <div className="diag error">At least one assignment is needed.</div>}
      {list.map((a, i) => {
        const field = "set_variable.assignments[" + i + "]";
        const valueDiags = fieldDiags(ctx.diags, field + ".value");
        return (
          <div key={i} className="field-box">
            <div className="row">
              <VarPicker
                label={"Variable " + (i + 1)}
                value={a.var}
                vars={knownVariables(ctx.graph, node.id + "/set/" + i)}
                onChange={(v) => up(i, { var: v }, "var")}
              />
              <button className="icon" aria-label={"Move assignment " + (i + 1) + " up"} disabled={i === 0} onClick={() => move(i, -1)}>
                ↑
              </button>
              <button className="icon" aria-label={"Move assignment " + (i + 1) + " down"} disabled={i === list.length - 1} onClick={() => move(i, 1)}>
                ↓
              </button>
              <button className="icon" aria-label={"Remove assignment " + (i + 1)} onClick={() => put(list.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
            <Diags list={fieldDiags(ctx.diags, field + ".var")} />
            <ConditionEditor
              label={"Value " + (i + 1)}
              value={a.value}
              onChange={(v) => up(i, { value: v }, "value")}
              diagnostics={valueDiags}
              checking={ctx.checking}
              placeholder="an expression, such as true"
            />
          </div>
        );
      })}
      {list.length < 50 && (
        <button className="linkish" onClick={() => put([...list, { var: "", value: "" }])}>
          + Add an assignment
        </button>
      )}
    </fieldset>
  );
}

const NewVar = "\u0000new";

/** VarPicker picks a variable the graph knows (declared or set by a node),
 * or names a new one. */
function VarPicker({ label, value, vars, onChange }: { label: string; value: string; vars: VarInfo[]; onChange(v: string): void }) {
  const known = vars.some((v) => v.name === value);
  const [naming, setNaming] = useState(!known);
  const bad = value !== "" && !varPattern.test(value);
  return (
    <div className="varpick">
      <select
        aria-label={label}
        value={naming ? NewVar : value}
        onChange={(e) => {
          if (e.target.value === NewVar) {
            setNaming(true);
            return;
          }
          setNaming(false);
          onChange(e.target.value);
        }}
      >
        {vars.map((v) => (
          <option key={v.name} value={v.name}>
            {v.name} · {v.type === "expression" ? "set" : v.type} ({v.from})
          </option>
        ))}
        <option value={NewVar}>New variable…</option>
      </select>
      {naming && (
        <input
          aria-label={label + " name"}
          placeholder="new_variable"
          value={value}
          maxLength={64}
          aria-invalid={bad}
          onChange={(e) => onChange(e.target.value.trim())}
        />
      )}
      {bad && <div className="diag error">A letter or _ then letters, digits or _.</div>}
    </div>
  );
}

function Diags({ list }: { list: Diagnostic[] }) {
  return (
    <>
      {list.map((d, i) => (
        <div key={i} className={"diag " + d.severity}>
          {d.message}
        </div>
      ))}
    </>
  );
}

const httpMethods: HTTPCallConfig["method"][] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const varTypes: VarType[] = ["string", "number", "bool"];

/** HTTPCallForm edits an http_call: the request (method, URL, headers,
 * body, timeout) and the mapping of the JSON response to variables. */
function HTTPCallForm({ node, set, ctx }: { node: GNode; set: Setter; ctx: FormContext }) {
  const c = (node.http_call || { method: "GET", url: "" }) as unknown as HTTPCallConfig;
  const up = (v: Partial<HTTPCallConfig>, key?: string) => set("http_call", clean({ ...c, ...v }) as never, key);
  const fd = (f: string) => fieldDiags(ctx.diags, "http_call." + f);
  // Headers are an object in the format; the form keeps their order as
  // listed. A row whose name repeats another's is merged into it.
  const headers = Object.entries(c.headers || {});
  const setHeaders = (rows: [string, string][], key?: string) => up({ headers: rows.length ? Object.fromEntries(rows) : undefined }, key);
  const map = c.map || [];
  const setMap = (next: ResponseMapping[], key?: string) => up({ map: next.length ? next : undefined }, key);
  return (
    <>
      <div className="row">
        <label className="short">
          Method
          <select value={c.method} onChange={(e) => up({ method: e.target.value as HTTPCallConfig["method"] })}>
            {httpMethods.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          URL<span className="req"> *</span>
          <input value={c.url} placeholder="https://api.example.com/orders/{{vars.order}}" maxLength={2048} onChange={(e) => up({ url: e.target.value }, "url")} aria-invalid={fd("url").length > 0} />
        </label>
      </div>
      <Diags list={[...fd("method"), ...fd("url")]} />
      <fieldset className="sub">
        <legend>Headers</legend>
        {headers.map(([name, value], i) => (
          <div key={i} className="qr-row">
            <input aria-label={"Header " + (i + 1) + " name"} placeholder="Authorization" value={name} onChange={(e) => setHeaders(headers.map((h, j) => (j === i ? [e.target.value, h[1]] : h)), "hname:" + i)} />
            <input aria-label={"Header " + (i + 1) + " value"} placeholder="Bearer …" value={value} maxLength={1024} onChange={(e) => setHeaders(headers.map((h, j) => (j === i ? [h[0], e.target.value] : h)), "hvalue:" + i)} />
            <button className="icon" aria-label={"Remove header " + (i + 1)} onClick={() => setHeaders(headers.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        ))}
        <Diags list={fd("headers")} />
        {headers.length < 20 && (
          <button className="linkish" onClick={() => setHeaders([...headers, [uniqueID(headers.map((h) => h[0]), "X-Header"), ""]])}>
            + Add a header
          </button>
        )}
      </fieldset>
      <label>
        Body{c.method === "GET" || c.method === "DELETE" ? " (usually empty for " + c.method + ")" : ""}
        <textarea className="mono" rows={4} value={c.body || ""} maxLength={8000} placeholder='{"email": "{{vars.email}}"}' onChange={(e) => up({ body: e.target.value || undefined }, "body")} />
      </label>
      <Diags list={fd("body")} />
      <Num label="Timeout (ms, empty = 5000)" value={c.timeout_ms || undefined} min={0} max={10000} onChange={(v) => up({ timeout_ms: v || undefined }, "timeout")} />
      <Diags list={fd("timeout_ms")} />
      <fieldset className="sub" data-testid="response-map">
        <legend>Response to variables</legend>
        <div className="muted small">A dotted path into the JSON response, such as data.items.0.name. A 2xx answer leaves through success, anything else through failure.</div>
        {map.map((m, i) => (
          <div key={i} className="field-box">
            <div className="row">
              <VarPicker label={"Mapping " + (i + 1) + " variable"} value={m.var} vars={knownVariables(ctx.graph, node.id + "/map/" + i)} onChange={(v) => setMap(map.map((x, j) => (j === i ? { ...x, var: v } : x)), "mvar:" + i)} />
              <button className="icon" aria-label={"Remove mapping " + (i + 1)} onClick={() => setMap(map.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
            <div className="row">
              <input aria-label={"Mapping " + (i + 1) + " path"} placeholder="data.items.0.name" value={m.path} maxLength={256} onChange={(e) => setMap(map.map((x, j) => (j === i ? { ...x, path: e.target.value } : x)), "mpath:" + i)} />
              <select aria-label={"Mapping " + (i + 1) + " type"} className="short" value={m.type || "string"} onChange={(e) => setMap(map.map((x, j) => (j === i ? clean({ ...x, type: e.target.value === "string" ? undefined : (e.target.value as VarType) }) : x)))}>
                {varTypes.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </div>
            <Diags list={fd("map[" + i + "]")} />
          </div>
        ))}
        <Diags list={ctx.diags.filter((d) => d.field === "http_call.map")} />
        {map.length < 50 && (
          <button className="linkish" onClick={() => setMap([...map, { var: "", path: "" }])}>
            + Map a response field
          </button>
        )}
      </fieldset>
    </>
  );
}

function Input({ label, value, onChange }: { label: string; value: string; onChange(v: string): void }) {
  return (
    <label>
      {label}
      <input value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

function Num({ label, value, onChange, min, max }: { label: string; value?: number; onChange(v?: number): void; min?: number; max?: number }) {
  return (
    <label>
      {label}
      <input type="number" value={value ?? ""} min={min} max={max} onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))} />
    </label>
  );
}

function Check({ label, value, onChange }: { label: string; value: boolean; onChange(v: boolean): void }) {
  return (
    <label className="check">
      <input type="checkbox" checked={value} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

function QuickReplies({ value, langs, onChange }: { value?: QuickReply[]; langs: string[]; onChange(v?: QuickReply[]): void }) {
  const list = value || [];
  const up = (i: number, q: QuickReply | null) => {
    const next = list.slice();
    if (q) next[i] = q;
    else next.splice(i, 1);
    onChange(next.length ? next : undefined);
  };
  return (
    <fieldset className="sub">
      <legend>Quick replies</legend>
      {list.map((q, i) => (
        <div key={i} className="qr-row">
          <input aria-label="Value" placeholder="value" value={q.value} onChange={(e) => up(i, { ...q, value: e.target.value })} />
          {langs.map((l) => (
            <input
              key={l}
              aria-label={"Label (" + l + ")"}
              placeholder={"label " + l}
              value={q.label[l] || ""}
              onChange={(e) => up(i, { ...q, label: { ...q.label, [l]: e.target.value } })}
            />
          ))}
          <button className="icon" aria-label="Remove" onClick={() => up(i, null)}>
            ×
          </button>
        </div>
      ))}
      {list.length < 10 && (
        <button className="linkish" onClick={() => onChange([...list, { value: "option" + (list.length + 1), label: { [langs[0]]: "Option " + (list.length + 1) } }])}>
          + Add a quick reply
        </button>
      )}
    </fieldset>
  );
}

const fieldTypes: Field["type"][] = ["text", "email", "phone", "number", "choice", "date", "url"];
const captureVars = ["name", "email", "phone", "company", "note"];

function Fields({ value, langs, onChange, captureVars: capture }: { value: Field[]; langs: string[]; onChange(v: Field[]): void; captureVars?: boolean }) {
  const up = (i: number, f: Field | null) => {
    const next = value.slice();
    if (f) next[i] = f;
    else next.splice(i, 1);
    onChange(next);
  };
  return (
    <fieldset className="sub">
      <legend>Fields</legend>
      {value.map((f, i) => (
        <div key={i} className="field-box">
          <div className="row">
            {capture ? (
              <select aria-label="Variable" value={f.var} onChange={(e) => up(i, { ...f, var: e.target.value })}>
                {captureVars.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            ) : (
              <input aria-label="Variable" value={f.var} onChange={(e) => up(i, { ...f, var: e.target.value })} placeholder="variable" />
            )}
            <select aria-label="Type" value={f.type} onChange={(e) => up(i, { ...f, type: e.target.value as Field["type"] })}>
              {fieldTypes.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={!!f.optional} onChange={(e) => up(i, { ...f, optional: e.target.checked || undefined })} /> optional
            </label>
            <button className="icon" aria-label="Remove the field" onClick={() => up(i, null)}>
              ×
            </button>
          </div>
          <TextField label="Prompt" required value={f.prompt} languages={langs} onChange={(v: Text | undefined) => up(i, { ...f, prompt: v || {} })} />
          <TextField label="Re-ask" value={f.reask} languages={langs} onChange={(v) => up(i, { ...f, reask: v })} />
          {f.type === "choice" && <QuickReplies value={f.choices} langs={langs} onChange={(v) => up(i, { ...f, choices: v })} />}
          {f.type === "number" && (
            <div className="row">
              <Num label="Min" value={f.min} onChange={(v) => up(i, { ...f, min: v })} />
              <Num label="Max" value={f.max} onChange={(v) => up(i, { ...f, max: v })} />
            </div>
          )}
        </div>
      ))}
      {value.length < 20 && (
        <button className="linkish" onClick={() => onChange([...value, { var: capture ? "name" : "answer" + (value.length + 1), type: "text", prompt: { [langs[0]]: "Your answer?" } }])}>
          + Add a field
        </button>
      )}
    </fieldset>
  );
}

function EdgeInspector({ graph, edge, change, select, diagnostics, checking }: Props & { edge: GEdge }) {
  const from = graph.nodes.find((n) => n.id === edge.from);
  const port = edgePort(graph, edge);
  const siblings = graph.edges.filter((e) => e.from === edge.from && edgePort(graph, e) === port);
  const idx = siblings.findIndex((e) => e.id === edge.id);
  const diags = diagnostics.filter((d) => d.edge === edge.id);
  const condDiags = diags.filter(isCondition);
  const other = diags.filter((d) => !isCondition(d));
  const upd = (v: Partial<GEdge>, key?: string) =>
    change((g) => ({ ...g, edges: g.edges.map((e) => (e.id === edge.id ? clean({ ...e, ...v }) : e)) }), { key: key && "edge:" + edge.id + ":" + key });
  function move(dir: -1 | 1) {
    const other = siblings[idx + dir];
    if (!other) return;
    change((g) => {
      const edges = g.edges.slice();
      const a = edges.findIndex((e) => e.id === edge.id);
      const b = edges.findIndex((e) => e.id === other.id);
      [edges[a], edges[b]] = [edges[b], edges[a]];
      return { ...g, edges };
    });
  }
  return (
    <div className="inspector" data-testid="inspector">
      <div className="insp-head">
        <span className="kind">Edge</span>
        <code>{edge.id}</code>
      </div>
      <div className="muted small">
        from <button className="linkish" onClick={() => select({ type: "node", id: edge.from })}>{edge.from}</button>
      </div>
      <label>
        Port
        <select aria-label="Port" value={port} onChange={(e) => upd({ port: e.target.value === (from ? ports(from.kind)[0] : "") ? undefined : e.target.value })}>
          {(from ? ports(from.kind) : [port]).map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <label>
        To
        <select aria-label="To" value={edge.to} onChange={(e) => upd({ to: e.target.value })}>
          <NodeOptions nodes={graph.nodes} />
        </select>
      </label>
      <ConditionEditor value={edge.condition || ""} onChange={(v) => upd({ condition: v || undefined }, "cond")} diagnostics={condDiags} checking={checking} />
      <div className="muted small">
        Edges leaving “{port}” are tried in order; the first whose condition holds wins. This is {idx + 1} of {siblings.length}.
      </div>
      <div className="row">
        <button disabled={idx <= 0} onClick={() => move(-1)}>
          Move up
        </button>
        <button disabled={idx >= siblings.length - 1} onClick={() => move(1)}>
          Move down
        </button>
      </div>
      {other.map((d, i) => (
        <div key={i} className={"diag " + d.severity}>
          {d.message}
        </div>
      ))}
      <button
        className="danger"
        onClick={() => {
          change((g) => ({ ...g, edges: g.edges.filter((e) => e.id !== edge.id) }));
          select(null);
        }}
      >
        Delete edge
      </button>
    </div>
  );
}

function clean<T extends object>(o: T): T {
  const out = { ...o } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as T;
}

function GraphInspector({ graph, change, diagnostics, checking }: Props) {
  const rules = graph.global_rules || [];
  const setRules = (r: Rule[], key?: string) => change((g) => ({ ...g, global_rules: r.length ? r : undefined }), { key });
  const graphDiags = diagnostics.filter((d) => !d.node && !d.edge && !d.rule && !(d.field || "").startsWith("variables["));
  return (
    <div className="inspector" data-testid="inspector">
      <div className="insp-head">
        <span className="kind">Playbook</span>
      </div>
      <p className="muted small">Select a node or an edge to edit it. Drag from a port's handle to another node to connect them.</p>
      <label>
        Default language
        <input value={graph.default_language || "en"} onChange={(e) => change((g) => ({ ...g, default_language: e.target.value || undefined }), { key: "deflang" })} />
      </label>
      <label>
        Other languages (comma separated)
        <input
          value={(graph.languages || []).join(", ")}
          onChange={(e) => {
            const l = e.target.value.split(/[\s,]+/).filter(Boolean);
            change((g) => ({ ...g, languages: l.length ? l : undefined }), { key: "langs" });
          }}
        />
      </label>
      <label>
        Start node
        <select value={graph.start} onChange={(e) => change((g) => ({ ...g, start: e.target.value }))}>
          <NodeOptions nodes={graph.nodes} />
        </select>
      </label>
      <fieldset className="sub">
        <legend>Loop breaker</legend>
        <div className="row">
          <label>
            After misses
            <input
              type="number"
              min={1}
              max={20}
              value={graph.loop_breaker?.threshold ?? ""}
              onChange={(e) => change((g) => ({ ...g, loop_breaker: { to: g.loop_breaker?.to || "", threshold: e.target.value ? Number(e.target.value) : undefined } }))}
            />
          </label>
          <label>
            go to
            <select
              value={graph.loop_breaker?.to || ""}
              onChange={(e) => change((g) => ({ ...g, loop_breaker: e.target.value ? { ...g.loop_breaker, to: e.target.value } : undefined }))}
            >
              <option value="">(none)</option>
              <NodeOptions nodes={loopBreakerTargets(graph.nodes)} />
            </select>
          </label>
        </div>
      </fieldset>
      <fieldset className="sub" data-testid="declared-variables">
        <legend>Variables from outside</legend>
        <div className="muted small">Set by the widget (setVariables) or a signed identity; declare them so conditions can use them.</div>
        {(graph.variables || []).map((v, i) => {
          const vars = graph.variables || [];
          const up = (next: typeof vars, key?: string) => change((g) => ({ ...g, variables: next.length ? next : undefined }), { key });
          return (
            <div key={i} className="qr-row">
              <input
                aria-label={"Declared variable " + (i + 1)}
                value={v.name}
                maxLength={64}
                aria-invalid={!varPattern.test(v.name)}
                onChange={(e) => up(vars.map((x, j) => (j === i ? { ...x, name: e.target.value.trim() } : x)), "var:" + i)}
              />
              <select aria-label={"Declared variable " + (i + 1) + " type"} value={v.type} onChange={(e) => up(vars.map((x, j) => (j === i ? { ...x, type: e.target.value as VarType } : x)))}>
                {varTypes.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
              <button className="icon" aria-label={"Remove declared variable " + (i + 1)} onClick={() => up(vars.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          );
        })}
        {diagnostics
          .filter((d) => (d.field || "").startsWith("variables[") && !d.node)
          .map((d, i) => (
            <div key={i} className={"diag " + d.severity}>
              {d.message}
            </div>
          ))}
        <button
          className="linkish"
          onClick={() => change((g) => ({ ...g, variables: [...(g.variables || []), { name: uniqueID((g.variables || []).map((v) => v.name), "plan").replace(/[.:-]/g, "_"), type: "string" }] }))}
        >
          + Declare a variable
        </button>
      </fieldset>
      <fieldset className="sub">
        <legend>Global rules</legend>
        {rules.map((r, i) => {
          const up = (v: Partial<Rule>, key?: string) => setRules(rules.map((x, j) => (j === i ? clean({ ...x, ...v }) : x)), key && "rule:" + i + ":" + key);
          return (
            <div key={i} className="field-box">
              <div className="row">
                <input aria-label="Rule label" placeholder="label" value={r.label || ""} onChange={(e) => up({ label: e.target.value || undefined }, "label")} />
                <label className="check">
                  <input type="checkbox" checked={!r.disabled} onChange={(e) => up({ disabled: e.target.checked ? undefined : true })} /> on
                </label>
                <button className="icon" aria-label="Remove the rule" onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
              <ConditionEditor value={r.condition} onChange={(v) => up({ condition: v }, "cond")} diagnostics={diagnostics.filter((d) => d.rule === r.id && isCondition(d))} checking={checking} placeholder="a condition is required" />
              <label>
                go to
                <select value={r.to} onChange={(e) => up({ to: e.target.value })}>
                  <NodeOptions nodes={graph.nodes} />
                </select>
              </label>
            </div>
          );
        })}
        <button
          className="linkish"
          onClick={() =>
            setRules([...rules, { id: uniqueID(rules.map((r) => r.id), "rule"), label: "Asks for a human", condition: 'lower(message.text) contains "human"', to: graph.nodes.find((n) => n.kind === "handover")?.id || graph.start }])
          }
        >
          + Add a rule
        </button>
      </fieldset>
      {graphDiags.map((d, i) => (
        <div key={i} className={"diag " + d.severity}>
          {d.message}
        </div>
      ))}
    </div>
  );
}
