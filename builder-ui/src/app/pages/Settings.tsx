// The assistant's settings: its name (PATCH /assistants/{id}), when it
// answers and to whom, and the follow-up (PUT /settings), and the parts of
// the draft graph that are settings rather than flow: the handover rules
// (global rules and loop breaker) and the languages (PUT /draft with the
// revision, like the builder). The server's field errors (RFC 9457
// errors[].location) and the checks' diagnostics show beside their field.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, errorText, get, patch, post, put, type Diagnostic } from "../api";
import type { AssistantSettings, Draft, Graph, Rule, Text, Weekday } from "../types";
import { TextField } from "../ui";
import { ConditionEditor } from "../builder/ConditionEditor";
import { languagesOf, uniqueID } from "../builder/graph";
import { useAssistant } from "./AssistantLayout";
import { NodeOptions, loopBreakerTargets } from "../builder/NodeOptions";

const days: [Weekday, string][] = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];

/** langPattern is the engine's language code syntax. */
const langPattern = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

/** The parts of the draft graph this page edits. */
type GraphParts = Pick<Graph, "default_language" | "languages" | "global_rules" | "loop_breaker">;

const partsOf = (g: Graph): GraphParts => ({ default_language: g.default_language, languages: g.languages, global_rules: g.global_rules, loop_breaker: g.loop_breaker });

/** fieldErrors returns the messages of a problem's errors at location or
 * inside it ("body.availability.schedule" takes "…schedule[0].end"). */
function fieldErrors(e: unknown, location: string, exact = false): string[] {
  if (!(e instanceof ApiError)) return [];
  return e.errors
    .filter((f) => f.location === location || (!exact && ((f.location || "").startsWith(location + "[") || (f.location || "").startsWith(location + "."))))
    .map((f) => f.message || "invalid");
}

/** Errors shows, under a field, the problem's errors at (exact: at only,
 * not inside it) and the checks' diagnostics of that field. */
function Errors({ error, at, exact, diags }: { error?: unknown; at?: string; exact?: boolean; diags?: Diagnostic[] }) {
  const msgs = [...(at ? fieldErrors(error, at, exact) : []), ...(diags || []).map((d) => (d.severity === "warning" ? "Warning: " : "") + d.message)];
  if (!msgs.length) return null;
  return (
    <div className="field-error" role="alert" data-field={at}>
      {msgs.join(" · ")}
    </div>
  );
}

/** Section is a fieldset with a legend and an optional hint. */
function Section({ legend, hint, children, testid }: { legend: string; hint?: ReactNode; children: ReactNode; testid?: string }) {
  return (
    <fieldset data-testid={testid}>
      <legend>{legend}</legend>
      {hint && <div className="muted small">{hint}</div>}
      {children}
    </fieldset>
  );
}

const zones = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [] as string[];
  }
})();

export function Settings() {
  const { id } = useParams();
  const qc = useQueryClient();
  const assistant = useAssistant(id);
  const q = useQuery({ queryKey: ["settings", id], queryFn: () => get<AssistantSettings>(`/assistants/${id}/settings`) });
  // The draft is read fresh: the builder may have saved it since.
  const dq = useQuery({ queryKey: ["settings-draft", id], queryFn: () => get<Draft>(`/assistants/${id}/draft`), staleTime: 0, refetchOnWindowFocus: false });
  const [name, setName] = useState<string | null>(null);
  const [s, setS] = useState<AssistantSettings | null>(null);
  const [parts, setParts] = useState<GraphParts | null>(null);
  const [revision, setRevision] = useState(0);
  const [saving, setSaving] = useState(false);
  const [errs, setErrs] = useState<{ name?: unknown; settings?: unknown; draft?: unknown }>({});
  const [saved, setSaved] = useState(false);
  const [diags, setDiags] = useState<Diagnostic[]>([]);
  const [checking, setChecking] = useState(false);

  useEffect(() => {
    if (q.data) setS(q.data);
  }, [q.data]);
  useEffect(() => {
    if (assistant.data && name === null) setName(assistant.data.name);
  }, [assistant.data, name]);
  useEffect(() => {
    if (!dq.data) return;
    setParts(partsOf(dq.data.graph));
    setRevision(dq.data.revision);
    setDiags(dq.data.diagnostics || []);
  }, [dq.data]);

  const graph = useMemo(() => (dq.data && parts ? { ...dq.data.graph, ...parts } : null), [dq.data, parts]);
  const graphDirty = !!dq.data && !!parts && JSON.stringify(partsOf(dq.data.graph)) !== JSON.stringify(parts);

  // The checks run on the draft with this page's edits, as in the builder:
  // a rule's condition is underlined where it fails, as it is typed.
  const seq = useRef(0);
  const json = graph ? JSON.stringify(graph) : "";
  useEffect(() => {
    if (!graph || !graphDirty) return;
    const n = ++seq.current;
    setChecking(true);
    const t = setTimeout(async () => {
      try {
        const r = await post<{ errors: Diagnostic[] | null; warnings: Diagnostic[] | null }>(`/assistants/${id}/draft/check`, { graph });
        if (n === seq.current) setDiags([...(r.errors || []), ...(r.warnings || [])]);
      } catch {
        // The save reports what the check could not.
      } finally {
        if (n === seq.current) setChecking(false);
      }
    }, 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [json]);

  if (q.error) return <div className="page error">{errorText(q.error)}</div>;
  if (!s || (name === null && !assistant.error)) return <div className="page muted">Loading…</div>;
  const av = s.availability;
  const schedule = av.schedule || [];
  const setAv = (v: Partial<AssistantSettings["availability"]>) => {
    setSaved(false);
    setS({ ...s, availability: { ...av, ...v } });
  };
  const setWin = (i: number, v: Partial<(typeof schedule)[number]>) => setAv({ schedule: schedule.map((x, j) => (j === i ? { ...x, ...v } : x)) });
  const setAudience = (audience: AssistantSettings["audience"]) => {
    setSaved(false);
    setS({ ...s, audience });
  };
  const fu = s.follow_up || { enabled: false };
  const setFu = (v: Partial<AssistantSettings["follow_up"]>) => {
    setSaved(false);
    setS({ ...s, follow_up: { ...fu, ...v } });
  };
  const setPart = (v: Partial<GraphParts>) => {
    setSaved(false);
    setParts((p) => (p ? { ...p, ...v } : p));
  };
  const langs = graph ? languagesOf(graph) : ["en"];
  const rules = parts?.global_rules || [];
  const setRules = (r: Rule[]) => setPart({ global_rules: r.length ? r : undefined });
  const nodes = graph?.nodes || [];

  async function save() {
    setSaving(true);
    setSaved(false);
    const next: typeof errs = {};
    const trimmed = (name || "").trim();
    if (assistant.data && trimmed !== assistant.data.name) {
      try {
        await patch(`/assistants/${id}`, { name: trimmed });
        void qc.invalidateQueries({ queryKey: ["assistant", id] });
        void qc.invalidateQueries({ queryKey: ["assistants"] });
      } catch (e) {
        next.name = e;
      }
    }
    try {
      const v = await put<AssistantSettings>(`/assistants/${id}/settings`, s);
      setS(v);
      qc.setQueryData(["settings", id], v);
    } catch (e) {
      next.settings = e;
    }
    if (graphDirty && dq.data && parts) {
      try {
        const r = await put<{ revision: number; diagnostics: Diagnostic[] | null }>(`/assistants/${id}/draft`, { revision, graph: { ...dq.data.graph, ...parts } });
        setRevision(r.revision);
        setDiags(r.diagnostics || []);
        qc.setQueryData(["settings-draft", id], { ...dq.data, graph: { ...dq.data.graph, ...parts }, revision: r.revision, diagnostics: r.diagnostics });
      } catch (e) {
        next.draft = e;
      }
    }
    setErrs(next);
    setSaved(!next.name && !next.settings && !next.draft);
    setSaving(false);
    // The page is long: bring the first faulty field into view.
    if (next.name || next.settings || next.draft) {
      setTimeout(() => document.querySelector(".settings-page .field-error, .settings-page .banner.conflict")?.scrollIntoView({ block: "center" }), 0);
    }
  }

  const draftConflict = errs.draft instanceof ApiError && errs.draft.status === 409;
  const ruleDiags = (r: Rule) => diags.filter((d) => d.rule === r.id);
  const isCond = (d: Diagnostic) => d.field === "condition" || d.offset !== undefined || d.code.startsWith("condition");
  const otherDraftErrors = diags.filter((d) => d.severity === "error" && !d.rule && d.field !== "loop_breaker" && !(d.field || "").startsWith("languages") && d.field !== "default_language");
  /** problem says what a failed save's field errors (shown beside the
   * fields placed) do not: its detail, and any error no field shows. */
  const problem = (e: unknown, placed: string[]) => {
    if (!(e instanceof ApiError)) return e ? errorText(e) : "";
    const rest = e.errors.filter((f) => !placed.some((p) => (f.location || "").startsWith(p)));
    if (e.errors.length > 0 && rest.length === 0) return "Not saved: " + e.message + "; see the fields marked above.";
    return ["Not saved: " + e.message, ...rest.map((f) => (f.location ? f.location + ": " : "") + (f.message || ""))].join(" · ");
  };

  return (
    <div className="page narrow settings-page">
      <h2>Settings</h2>
      {/* noValidate: the server's field errors, shown beside each field,
          say what is wrong; the browser's bubbles would stop the save. */}
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <Section legend="Name">
          <label>
            Name, as visitors see it
            <input value={name ?? ""} maxLength={60} onChange={(e) => {
                setSaved(false);
                setName(e.target.value);
              }} aria-invalid={fieldErrors(errs.name, "body.name").length > 0} />
          </label>
          <Errors error={errs.name} at="body.name" />
        </Section>

        <Section legend="Availability: when the assistant answers" hint="While it does not, the channel's default response applies." testid="settings-availability">
          {(
            [
              ["always", "Always"],
              ["when_offline", "Only when no agent is online"],
              ["schedule", "On a weekly schedule"],
            ] as const
          ).map(([v, label]) => (
            <label key={v} className="check">
              <input type="radio" name="mode" checked={av.mode === v} onChange={() => setAv({ mode: v })} /> {label}
            </label>
          ))}
          <Errors error={errs.settings} at="body.availability.mode" />
          <fieldset className="sub" data-testid="schedule">
            <legend>Weekly schedule{av.mode === "schedule" ? "" : " (business hours for conditions)"}</legend>
            <div className="muted small">
              {av.mode === "schedule" ? "The assistant answers inside these windows." : "Conditions see business_hours as true inside these windows, whatever the mode."}
            </div>
            <div className="row">
              <label>
                Time zone
                <input list="fd-zones" value={av.time_zone || ""} placeholder="UTC" onChange={(e) => setAv({ time_zone: e.target.value || undefined })} aria-invalid={fieldErrors(errs.settings, "body.availability.time_zone").length > 0} />
              </label>
              <button type="button" onClick={() => setAv({ time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone })}>
                Use mine
              </button>
            </div>
            <datalist id="fd-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <Errors error={errs.settings} at="body.availability.time_zone" />
            {schedule.map((w, i) => (
              <div key={i}>
                <div className="row window">
                  <select aria-label={"Window " + (i + 1) + " day"} value={w.day} onChange={(e) => setWin(i, { day: e.target.value as Weekday })}>
                    {days.map(([d, label]) => (
                      <option key={d} value={d}>
                        {label}
                      </option>
                    ))}
                  </select>
                  <input aria-label={"Window " + (i + 1) + " from"} type="time" value={w.start} onChange={(e) => setWin(i, { start: e.target.value })} />
                  <span className="muted">to</span>
                  <input aria-label={"Window " + (i + 1) + " to"} type="time" value={w.end} onChange={(e) => setWin(i, { end: e.target.value })} />
                  <button type="button" className="icon" aria-label={"Remove window " + (i + 1)} onClick={() => setAv({ schedule: schedule.filter((_, j) => j !== i) })}>
                    ×
                  </button>
                </div>
                <Errors error={errs.settings} at={"body.availability.schedule[" + i + "]"} />
              </div>
            ))}
            <Errors error={errs.settings} at="body.availability.schedule" exact />
            <div className="row">
              <button type="button" className="linkish" onClick={() => setAv({ schedule: [...schedule, { day: "mon", start: "09:00", end: "17:00" }] })}>
                + Add a time window
              </button>
              <button
                type="button"
                className="linkish"
                onClick={() => setAv({ schedule: (["mon", "tue", "wed", "thu", "fri"] as Weekday[]).map((day) => ({ day, start: "09:00", end: "17:00" })) })}
              >
                Monday to Friday, 9:00 to 17:00
              </button>
            </div>
          </fieldset>
        </Section>

        <Section legend="Audience">
          <label className="check">
            <input type="radio" name="aud" checked={(s.audience || "everyone") === "everyone"} onChange={() => setAudience("everyone")} /> Everyone
          </label>
          <label className="check">
            <input type="radio" name="aud" checked={s.audience === "new_only"} onChange={() => setAudience("new_only")} /> New visitors only (returning ones go straight to agents)
          </label>
          <Errors error={errs.settings} at="body.audience" />
        </Section>

        <Section legend="Follow-up" hint="Sent to a visitor waiting for a human who got no answer.">
          <label className="check">
            <input type="checkbox" checked={fu.enabled} onChange={(e) => setFu({ enabled: e.target.checked })} /> Send a follow-up
          </label>
          {fu.enabled && (
            <>
              <label>
                After (seconds, 30 to 86,400; empty = 300)
                <input
                  type="number"
                  min={30}
                  max={86400}
                  value={fu.after_seconds ?? ""}
                  onChange={(e) => setFu({ after_seconds: e.target.value === "" ? undefined : Number(e.target.value) })}
                  aria-invalid={fieldErrors(errs.settings, "body.follow_up.after_seconds").length > 0}
                />
              </label>
              <Errors error={errs.settings} at="body.follow_up.after_seconds" />
              <TextField label="Text (empty = the built-in one)" value={fu.text || undefined} languages={langs} onChange={(v: Text | undefined) => setFu({ text: v })} />
              <Errors error={errs.settings} at="body.follow_up.text" />
            </>
          )}
        </Section>

        {!graph && dq.error ? (
          <div className="error">Could not load the draft: {errorText(dq.error)}</div>
        ) : !graph ? (
          <div className="muted">Loading the draft…</div>
        ) : (
          <>
            <div className="muted small">
              Languages and handover rules are part of the playbook: they are saved in the draft (revision {revision}) and go live when it is <Link to="../builder">published</Link>.
            </div>
            <Section legend="Languages" hint="Every text in the playbook is per language; visitors get their browser's language when supported, else the default." testid="settings-languages">
              <label>
                Default language
                <input
                  value={parts?.default_language || "en"}
                  maxLength={12}
                  onChange={(e) => setPart({ default_language: e.target.value.trim().toLowerCase() || undefined })}
                  aria-invalid={!langPattern.test(parts?.default_language || "en")}
                />
              </label>
              <Errors error={errs.draft} at="body.graph.default_language" diags={diags.filter((d) => d.field === "default_language")} />
              <LanguageList
                value={(parts?.languages || []).filter((l) => l !== (parts?.default_language || "en"))}
                onChange={(l) => setPart({ languages: l.length ? l : undefined })}
              />
              <Errors error={errs.draft} at="body.graph.languages" diags={diags.filter((d) => (d.field || "").startsWith("languages"))} />
            </Section>

            <Section legend="Handover rules" hint="Checked on every visitor message, in order, before the current step's own edges: the first that holds sends the chat to its node." testid="settings-rules">
              {rules.map((r, i) => {
                const up = (v: Partial<Rule>) => setRules(rules.map((x, j) => (j === i ? { ...x, ...v } : x)));
                const rd = ruleDiags(r);
                return (
                  <div key={r.id} className="field-box">
                    <div className="row">
                      <input aria-label={"Rule " + (i + 1) + " label"} placeholder="label" value={r.label || ""} onChange={(e) => up({ label: e.target.value || undefined })} />
                      <label className="check">
                        <input type="checkbox" checked={!r.disabled} onChange={(e) => up({ disabled: e.target.checked ? undefined : true })} /> on
                      </label>
                      <button type="button" className="icon" aria-label={"Move rule " + (i + 1) + " up"} disabled={i === 0} onClick={() => setRules(swap(rules, i, i - 1))}>
                        ↑
                      </button>
                      <button type="button" className="icon" aria-label={"Remove rule " + (i + 1)} onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                        ×
                      </button>
                    </div>
                    <ConditionEditor label={"Rule " + (i + 1) + " condition"} value={r.condition} onChange={(v) => up({ condition: v })} diagnostics={rd.filter(isCond)} checking={checking} placeholder="a condition is required" />
                    <label>
                      go to
                      <select value={r.to} onChange={(e) => up({ to: e.target.value })} aria-label={"Rule " + (i + 1) + " goes to"}>
                        {!nodes.some((n) => n.id === r.to) && <option value={r.to}>{r.to || "(choose a node)"}</option>}
                        {nodes.map((n) => (
                          <option key={n.id} value={n.id}>
                            {n.id} ({n.kind})
                          </option>
                        ))}
                      </select>
                    </label>
                    <Errors error={errs.draft} at={"body.graph.global_rules[" + i + "]"} diags={rd.filter((d) => !isCond(d))} />
                  </div>
                );
              })}
              <Errors error={errs.draft} at="body.graph.global_rules" exact diags={diags.filter((d) => d.field === "global_rules")} />
              <button
                type="button"
                className="linkish"
                onClick={() =>
                  setRules([
                    ...rules,
                    {
                      id: uniqueID(
                        rules.map((r) => r.id),
                        "rule",
                      ),
                      label: "Asks for a human",
                      condition: 'lower(message.text) contains "human"',
                      to: nodes.find((n) => n.kind === "handover")?.id || graph.start,
                    },
                  ])
                }
              >
                + Add a rule
              </button>
              <fieldset className="sub">
                <legend>Loop breaker</legend>
                <div className="muted small">After this many replies in a row that the bot did not understand, the chat goes to a human or to offline capture.</div>
                <div className="row">
                  <label>
                    After misses (empty = 3)
                    <input
                      type="number"
                      min={1}
                      max={20}
                      value={parts?.loop_breaker?.threshold ?? ""}
                      disabled={!parts?.loop_breaker}
                      onChange={(e) => parts?.loop_breaker && setPart({ loop_breaker: { ...parts.loop_breaker, threshold: e.target.value ? Number(e.target.value) : undefined } })}
                    />
                  </label>
                  <label>
                    go to
                    <select
                      aria-label="Loop breaker goes to"
                      value={parts?.loop_breaker?.to || ""}
                      onChange={(e) => setPart({ loop_breaker: e.target.value ? { ...parts?.loop_breaker, to: e.target.value } : undefined })}
                    >
                      <option value="">(none)</option>
                      <NodeOptions nodes={loopBreakerTargets(nodes)} />
                    </select>
                  </label>
                </div>
                <Errors error={errs.draft} at="body.graph.loop_breaker" diags={diags.filter((d) => d.field === "loop_breaker" && !d.node)} />
              </fieldset>
            </Section>
            {otherDraftErrors.length > 0 && (
              <div className="muted small">
                The draft has {otherDraftErrors.length} other error{otherDraftErrors.length > 1 ? "s" : ""} (texts, nodes, edges): see the <Link to="../builder">builder</Link>.
              </div>
            )}
          </>
        )}

        {draftConflict && (
          <div className="banner conflict" role="alert">
            Someone saved the draft meanwhile (in the builder, perhaps): the languages and handover rules were not saved.
            <button
              type="button"
              onClick={() => {
                setErrs((x) => ({ ...x, draft: undefined }));
                void dq.refetch();
              }}
            >
              Load theirs
            </button>
          </div>
        )}
        {errs.name !== undefined && <div className="error">{problem(errs.name, ["body.name"])}</div>}
        {errs.settings !== undefined && <div className="error">{problem(errs.settings, ["body.availability", "body.audience", "body.follow_up"])}</div>}
        {errs.draft !== undefined && !draftConflict && <div className="error">{problem(errs.draft, ["body.graph.default_language", "body.graph.languages", "body.graph.global_rules", "body.graph.loop_breaker"])}</div>}
        {saved && <div className="ok">Saved.</div>}
        <div>
          <button className="primary" type="submit" disabled={saving}>
            {saving ? "Saving…" : "Save settings"}
          </button>
        </div>
      </form>
    </div>
  );
}

function swap<T>(list: T[], a: number, b: number): T[] {
  const next = list.slice();
  [next[a], next[b]] = [next[b], next[a]];
  return next;
}

/** LanguageList edits the other supported languages, as removable chips
 * and a field to add one. */
function LanguageList({ value, onChange }: { value: string[]; onChange(v: string[]): void }) {
  const [add, setAdd] = useState("");
  const code = add.trim().toLowerCase();
  const ok = langPattern.test(code) && !value.includes(code);
  return (
    <div className="stack tight">
      <div className="muted small">Other supported languages</div>
      <div className="langs" data-testid="languages">
        {value.length === 0 && <span className="muted small">none</span>}
        {value.map((l) => (
          <span key={l} className="lang-chip">
            {l}
            <button type="button" className="icon" aria-label={"Remove " + l} onClick={() => onChange(value.filter((x) => x !== l))}>
              ×
            </button>
          </span>
        ))}
      </div>
      <div className="row langs-add">
        <input
          aria-label="Add a language"
          placeholder="fr, de, pt-br…"
          value={add}
          maxLength={12}
          onChange={(e) => setAdd(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              if (ok) {
                onChange([...value, code]);
                setAdd("");
              }
            }
          }}
        />
        <button
          type="button"
          disabled={!ok}
          onClick={() => {
            onChange([...value, code]);
            setAdd("");
          }}
        >
          Add
        </button>
      </div>
      {add && !langPattern.test(code) && <div className="field-error">A code such as en, fr or pt-br.</div>}
    </div>
  );
}
