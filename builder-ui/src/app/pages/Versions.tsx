// The versions page: the published versions, rollback, and the changes
// between any two versions (GET /versions/diff), listed and drawn on a
// read-only canvas of the newer version.
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorText, get, post } from "../api";
import type { Graph, Version, VersionDiff } from "../types";
import { useAssistant } from "./AssistantLayout";

// The canvas brings React Flow: it loads when a diff is opened, as the
// builder does, so the app's first load stays small.
const DiffCanvas = lazy(() => import("../builder/DiffCanvas").then((m) => ({ default: m.DiffCanvas })));

function DiffList({ d }: { d: VersionDiff }) {
  const rows: [string, string, string[]][] = [
    ["added", "Nodes added", d.nodes_added || []],
    ["removed", "Nodes removed", d.nodes_removed || []],
    ["changed", "Nodes changed", (d.nodes_changed || []).map((c) => c.id + " (" + c.fields.join(", ") + ")")],
    ["moved", "Nodes moved", d.nodes_moved || []],
    ["added", "Edges added", d.edges_added || []],
    ["removed", "Edges removed", d.edges_removed || []],
    ["changed", "Edges changed", (d.edges_changed || []).map((c) => c.id + " (" + c.fields.join(", ") + ")")],
    ["added", "Rules added", d.rules_added || []],
    ["removed", "Rules removed", d.rules_removed || []],
    ["changed", "Rules changed", (d.rules_changed || []).map((c) => c.id + " (" + c.fields.join(", ") + ")")],
    ["changed", "Playbook settings", d.graph_changed || []],
  ];
  const some = rows.filter(([, , v]) => v.length);
  return (
    <ul className="diff" data-testid="diff-list">
      {some.length === 0 && <li className="muted">No differences.</li>}
      {some.map(([mark, k, v]) => (
        <li key={k} className={"diff-" + mark}>
          {k}: <code>{v.join(", ")}</code>
        </li>
      ))}
    </ul>
  );
}

/** DiffPanel loads the diff and both graphs, and shows the list and the
 * canvas. */
function DiffPanel({ id, from, to }: { id: string; from: number; to: number }) {
  const diff = useQuery({ queryKey: ["diff", id, from, to], queryFn: () => get<{ diff: VersionDiff }>(`/assistants/${id}/versions/diff?from=${from}&to=${to}`) });
  // Versions are immutable: their graphs never go stale.
  const older = useQuery({ queryKey: ["version", id, from], queryFn: () => get<{ graph: Graph }>(`/assistants/${id}/versions/${from}`), staleTime: Infinity });
  const newer = useQuery({ queryKey: ["version", id, to], queryFn: () => get<{ graph: Graph }>(`/assistants/${id}/versions/${to}`), staleTime: Infinity });
  const err = diff.error || older.error || newer.error;
  if (err) return <div className="error">{errorText(err)}</div>;
  if (!diff.data || !older.data || !newer.data) return <div className="muted small">Loading…</div>;
  return (
    <div className="stack tight">
      <DiffList d={diff.data.diff} />
      <Suspense fallback={<div className="muted small">Loading the canvas…</div>}>
        <DiffCanvas older={older.data.graph} newer={newer.data.graph} diff={diff.data.diff} fromLabel={"v" + from} toLabel={"v" + to} />
      </Suspense>
    </div>
  );
}

export function Versions() {
  const { id } = useParams();
  const qc = useQueryClient();
  const a = useAssistant(id);
  const [cmp, setCmp] = useState<{ from: number; to: number } | null>(null);
  const panel = useRef<HTMLElement>(null);
  const q = useQuery({ queryKey: ["versions", id], queryFn: () => get<{ versions: Version[] }>(`/assistants/${id}/versions?limit=100`) });
  const rollback = useMutation({
    mutationFn: (n: number) => post<{ number: number }>(`/assistants/${id}/versions/${n}/rollback`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["versions", id] });
      void qc.invalidateQueries({ queryKey: ["assistant", id] });
      void qc.invalidateQueries({ queryKey: ["assistants"] });
    },
  });
  const versions = q.data?.versions || [];
  const live = a.data?.latest_version || 0;
  const numbers = versions.map((v) => v.number);
  // The compare bar's choice: the last two versions until one is picked.
  const [pick, setPick] = useState<{ from: number; to: number } | null>(null);
  const newest = numbers[0] || 0;
  const shown = pick || (newest > 1 ? { from: newest - 1, to: newest } : null);
  useEffect(() => {
    if (cmp) panel.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [cmp]);
  return (
    <div className="page">
      <h2>Versions</h2>
      <p className="muted">Every publish freezes the draft as a new version. Rolling back publishes an old version again as the newest one; chats in progress keep theirs.</p>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {rollback.error && <div className="error">{errorText(rollback.error)}</div>}
      {rollback.data && <div className="ok">Published v{rollback.data.number}.</div>}
      {shown && (
        <form
          className="row compare"
          onSubmit={(e) => {
            e.preventDefault();
            setCmp(shown);
          }}
        >
          <span>Compare</span>
          <select aria-label="Older version" value={shown.from} onChange={(e) => setPick({ ...shown, from: Number(e.target.value) })}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
          <span>with</span>
          <select aria-label="Newer version" value={shown.to} onChange={(e) => setPick({ ...shown, to: Number(e.target.value) })}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
          <button type="submit" disabled={shown.from === shown.to}>
            Show the changes
          </button>
        </form>
      )}
      {cmp && (
        <section className="diff-panel" ref={panel} data-testid="diff-panel">
          <div className="row between">
            <h3>
              Changes from v{cmp.from} to v{cmp.to}
            </h3>
            <button className="icon" aria-label="Close the changes" onClick={() => setCmp(null)}>
              ×
            </button>
          </div>
          <DiffPanel id={id!} from={cmp.from} to={cmp.to} />
        </section>
      )}
      <table className="table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Published</th>
            <th>By</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.id} className={cmp?.to === v.number ? "cmp-row" : undefined}>
              <td>
                v{v.number} {v.number === live && <span className="badge active">live</span>}
              </td>
              <td>{new Date(v.published_at).toLocaleString()}</td>
              <td className="muted">{v.published_by || "—"}</td>
              <td className="right">
                {v.number > 1 && (
                  <button className="linkish" onClick={() => setCmp(cmp?.to === v.number && cmp.from === v.number - 1 ? null : { from: v.number - 1, to: v.number })}>
                    {cmp?.to === v.number && cmp.from === v.number - 1 ? "Hide changes" : "Changes from v" + (v.number - 1)}
                  </button>
                )}{" "}
                {v.number !== live && (
                  <button
                    onClick={() => {
                      if (confirm("Publish v" + v.number + " again as the newest version?")) rollback.mutate(v.number);
                    }}
                    disabled={rollback.isPending}
                  >
                    Roll back to v{v.number}
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!q.isLoading && versions.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                Not published yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
