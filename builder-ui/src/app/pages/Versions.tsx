import { Fragment, useState } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorText, get, post } from "../api";
import type { Version } from "../types";
import { useAssistant } from "./AssistantLayout";

interface Change {
  id: string;
  fields: string[];
}
interface Diff {
  nodes_added: string[] | null;
  nodes_removed: string[] | null;
  nodes_changed: Change[] | null;
  nodes_moved: string[] | null;
  edges_added: string[] | null;
  edges_removed: string[] | null;
  edges_changed: Change[] | null;
  rules_added: string[] | null;
  rules_removed: string[] | null;
  rules_changed: Change[] | null;
  graph_changed: string[] | null;
}

function DiffView({ id, from, to }: { id: string; from: number; to: number }) {
  const q = useQuery({ queryKey: ["diff", id, from, to], queryFn: () => get<{ diff: Diff }>(`/assistants/${id}/versions/diff?from=${from}&to=${to}`) });
  if (q.isLoading) return <div className="muted small">Loading…</div>;
  if (q.error) return <div className="error">{errorText(q.error)}</div>;
  const d = q.data!.diff;
  const rows: [string, string[]][] = [
    ["Nodes added", d.nodes_added || []],
    ["Nodes removed", d.nodes_removed || []],
    ["Nodes changed", (d.nodes_changed || []).map((c) => c.id + " (" + c.fields.join(", ") + ")")],
    ["Nodes moved", d.nodes_moved || []],
    ["Edges added", d.edges_added || []],
    ["Edges removed", d.edges_removed || []],
    ["Edges changed", (d.edges_changed || []).map((c) => c.id + " (" + c.fields.join(", ") + ")")],
    ["Rules added", d.rules_added || []],
    ["Rules removed", d.rules_removed || []],
    ["Rules changed", (d.rules_changed || []).map((c) => c.id)],
    ["Playbook settings", d.graph_changed || []],
  ];
  const some = rows.filter(([, v]) => v.length);
  return (
    <ul className="diff">
      {some.length === 0 && <li className="muted">No differences.</li>}
      {some.map(([k, v]) => (
        <li key={k}>
          {k}: <code>{v.join(", ")}</code>
        </li>
      ))}
    </ul>
  );
}

export function Versions() {
  const { id } = useParams();
  const qc = useQueryClient();
  const a = useAssistant(id);
  const [open, setOpen] = useState<number | null>(null);
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
  return (
    <div className="page">
      <h2>Versions</h2>
      <p className="muted">Every publish freezes the draft as a new version. Rolling back publishes an old version again as the newest one; chats in progress keep theirs.</p>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {rollback.error && <div className="error">{errorText(rollback.error)}</div>}
      {rollback.data && <div className="ok">Published v{rollback.data.number}.</div>}
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
            <Fragment key={v.id}>
              <tr>
                <td>
                  v{v.number} {v.number === live && <span className="badge active">live</span>}
                </td>
                <td>{new Date(v.published_at).toLocaleString()}</td>
                <td className="muted">{v.published_by || "—"}</td>
                <td className="right">
                  {v.number > 1 && (
                    <button className="linkish" onClick={() => setOpen(open === v.number ? null : v.number)}>
                      {open === v.number ? "Hide changes" : "Changes from v" + (v.number - 1)}
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
              {open === v.number && (
                <tr>
                  <td colSpan={4}>
                    <DiffView id={id!} from={v.number - 1} to={v.number} />
                  </td>
                </tr>
              )}
            </Fragment>
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
