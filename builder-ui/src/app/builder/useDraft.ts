// useDraft holds the graph being edited: undo/redo history, autosave with
// the draft revision (a 409 raises a conflict, never a silent overwrite),
// and the live checks (POST /draft/check) as the graph changes.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { ApiError, get, post, put, type Diagnostic } from "../api";
import type { Draft, Graph } from "../types";
import { autoLayout, crowded } from "./layout";

export type SaveState = "loading" | "saved" | "dirty" | "saving" | "conflict" | "error";

interface Hist {
  graph: Graph | null;
  past: Graph[];
  future: Graph[];
  key: string;
  at: number;
}

type Action =
  | { t: "load"; graph: Graph }
  | { t: "change"; fn: (g: Graph) => Graph; history: boolean; key?: string; now: number }
  | { t: "checkpoint" }
  | { t: "undo" }
  | { t: "redo" };

/** HistoryLimit bounds the undo stack. */
export const HistoryLimit = 200;
/** CoalesceMS merges edits of one field in a row into one undo step. */
const CoalesceMS = 1500;

function reduce(s: Hist, a: Action): Hist {
  switch (a.t) {
    case "load":
      return { graph: a.graph, past: [], future: [], key: "", at: 0 };
    case "change": {
      if (!s.graph) return s;
      const next = a.fn(s.graph);
      if (next === s.graph) return s;
      if (!a.history) return { ...s, graph: next };
      const merge = a.key && a.key === s.key && a.now - s.at < CoalesceMS;
      return {
        graph: next,
        past: merge ? s.past : [...s.past, s.graph].slice(-HistoryLimit),
        future: [],
        key: a.key || "",
        at: a.now,
      };
    }
    case "checkpoint":
      return s.graph ? { ...s, past: [...s.past, s.graph].slice(-HistoryLimit), future: [], key: "", at: 0 } : s;
    case "undo": {
      if (!s.graph || !s.past.length) return s;
      return { graph: s.past[s.past.length - 1], past: s.past.slice(0, -1), future: [s.graph, ...s.future], key: "", at: 0 };
    }
    case "redo": {
      if (!s.graph || !s.future.length) return s;
      return { graph: s.future[0], past: [...s.past, s.graph], future: s.future.slice(1), key: "", at: 0 };
    }
  }
}

export interface Checks {
  errors: Diagnostic[];
  warnings: Diagnostic[];
  checking: boolean;
}

export function useDraft(assistantID: string) {
  const [h, dispatch] = useReducer(reduce, { graph: null, past: [], future: [], key: "", at: 0 });
  const [revision, setRevision] = useState(0);
  const [state, setState] = useState<SaveState>("loading");
  const [saveError, setSaveError] = useState("");
  const [conflictRevision, setConflictRevision] = useState<number | null>(null);
  const [checks, setChecks] = useState<Checks>({ errors: [], warnings: [], checking: false });
  const [loadError, setLoadError] = useState("");
  const saved = useRef(""); // JSON of the graph the server has
  const saving = useRef(false);
  // holds counts the callers (a transcript test being saved) that need the
  // draft's revision to stay put: autosave waits until they are done.
  const holds = useRef(0);
  const revRef = useRef(0);
  const latest = useRef(""); // JSON of the graph on screen

  const load = useCallback(async () => {
    setState("loading");
    try {
      const d = await get<Draft>("/assistants/" + assistantID + "/draft");
      saved.current = JSON.stringify(d.graph);
      revRef.current = d.revision;
      setRevision(d.revision);
      setConflictRevision(null);
      // A crowded graph (a template's positions are for smaller boxes) is
      // laid out once; the new positions are saved like any edit.
      dispatch({ t: "load", graph: crowded(d.graph) ? autoLayout(d.graph, new Map()) : d.graph });
      setState("saved");
      setLoadError("");
    } catch (e) {
      setLoadError(e instanceof Error ? e.message : String(e));
      setState("error");
    }
  }, [assistantID]);

  useEffect(() => {
    void load();
  }, [load]);

  const graph = h.graph;
  const json = useMemo(() => (graph ? JSON.stringify(graph) : ""), [graph]);
  latest.current = json;
  const [tick, setTick] = useState(0);

  const save = useCallback(
    async (g: Graph, rev: number) => {
      saving.current = true;
      setState("saving");
      const body = JSON.stringify(g);
      try {
        const r = await put<{ revision: number }>("/assistants/" + assistantID + "/draft", { revision: rev, graph: g });
        saved.current = body;
        revRef.current = r.revision;
        setRevision(r.revision);
        setSaveError("");
        if (latest.current !== body) {
          setState("dirty");
          setTick((n) => n + 1); // edits made while saving go next
        } else {
          setState("saved");
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          const cur = Number((e.current as { revision?: number } | undefined)?.revision ?? NaN);
          setConflictRevision(Number.isFinite(cur) ? cur : -1);
          setState("conflict");
        } else {
          setSaveError(e instanceof ApiError ? e.describe() : String(e));
          setState("error");
        }
      } finally {
        saving.current = false;
      }
    },
    [assistantID],
  );

  // Autosave: a second after the last change, unless in conflict.
  useEffect(() => {
    if (!graph || state === "loading" || state === "conflict") return;
    if (json === saved.current) {
      if (state === "dirty") setState("saved");
      return;
    }
    if (state !== "saving" && state !== "error") setState("dirty");
    const t = setTimeout(() => {
      if (saving.current || holds.current > 0) {
        setTick((n) => n + 1); // try again once this save, or the hold, ends
        return;
      }
      // flush may have saved this graph since the timer was set: saving it
      // again would bump the revision for nothing, and every bump restarts
      // the preview (a transcript test then fails with preview_restart).
      if (latest.current === saved.current) {
        setState((s) => (s === "dirty" ? "saved" : s));
        return;
      }
      void save(graph, revRef.current);
    }, 900);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [json, tick, state === "conflict", state === "loading"]);

  // Live checks, debounced; a newer check wins.
  const checkSeq = useRef(0);
  useEffect(() => {
    if (!graph) return;
    const seq = ++checkSeq.current;
    setChecks((c) => ({ ...c, checking: true }));
    const t = setTimeout(async () => {
      try {
        const r = await post<{ errors: Diagnostic[] | null; warnings: Diagnostic[] | null }>("/assistants/" + assistantID + "/draft/check", { graph });
        if (seq === checkSeq.current) setChecks({ errors: r.errors || [], warnings: r.warnings || [], checking: false });
      } catch (e) {
        if (seq !== checkSeq.current) return;
        // A graph the API cannot even read (a bad id) answers 422 with
        // field errors: show them as check errors.
        if (e instanceof ApiError) {
          const diags: Diagnostic[] = e.diagnostics.length
            ? e.diagnostics
            : e.errors.map((f) => ({ severity: "error" as const, code: "invalid", message: (f.location || "") + ": " + (f.message || e.message) }));
          setChecks({ errors: diags.filter((d) => d.severity !== "warning").length ? diags.filter((d) => d.severity !== "warning") : [{ severity: "error", code: e.code || "invalid", message: e.describe() }], warnings: diags.filter((d) => d.severity === "warning"), checking: false });
        } else {
          setChecks((c) => ({ ...c, checking: false }));
        }
      }
    }, 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [json, assistantID]);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (json && json !== saved.current) e.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [json]);

  const change = useCallback((fn: (g: Graph) => Graph, opts?: { history?: boolean; key?: string }) => {
    dispatch({ t: "change", fn, history: opts?.history ?? true, key: opts?.key, now: Date.now() });
  }, []);

  return {
    graph,
    revision,
    state,
    saveError,
    loadError,
    conflictRevision,
    checks,
    change,
    checkpoint: useCallback(() => dispatch({ t: "checkpoint" }), []),
    undo: useCallback(() => dispatch({ t: "undo" }), []),
    redo: useCallback(() => dispatch({ t: "redo" }), []),
    canUndo: h.past.length > 0,
    canRedo: h.future.length > 0,
    dirty: !!json && json !== saved.current,
    /** discardMine loads the server's draft (the conflict's "theirs"). */
    discardMine: load,
    /** keepMine saves this graph over the newer revision, on purpose. */
    keepMine: useCallback(async () => {
      if (!graph) return;
      const d = await get<Draft>("/assistants/" + assistantID + "/draft");
      revRef.current = d.revision;
      setConflictRevision(null);
      await save(graph, d.revision);
    }, [assistantID, graph, save]),
    /** hold keeps autosave from changing the revision until the returned
     * release is called (a save of the preview as a transcript test needs
     * the draft its chat ran on). Edits made meanwhile are saved after. */
    hold: useCallback(() => {
      holds.current++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        holds.current--;
        setTick((n) => n + 1);
      };
    }, []),
    /** flush saves now, for publishing. */
    flush: useCallback(async () => {
      for (let i = 0; (saving.current || holds.current > 0) && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
      if (graph && JSON.stringify(graph) !== saved.current) await save(graph, revRef.current);
      return revRef.current;
    }, [graph, save]),
    reload: load,
  };
}
