import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { del, errorText, get, post } from "../api";
import type { Assistant } from "../types";
import { Dialog } from "../ui";

/** Templates are the ones in playbooks/templates (docs/playbook-format.md). */
export const templates = [
  { id: "", name: "Blank", about: "A greeting and an end: start from scratch." },
  { id: "live-chat", name: "Live chat", about: "Greet, then hand over to an agent; take a message when nobody answers." },
  { id: "lead-qualification", name: "Lead qualification", about: "Quick replies, collect company size, budget and email, route big deals to sales." },
  { id: "freelancer-assistant", name: "Freelancer assistant", about: "FAQ and knowledge answers, requirements, custom offers, returning clients." },
  { id: "support-deflection", name: "Support deflection", about: "Order tracking, returns and FAQ answers; transfer to an agent or open a ticket." },
];

function NewAssistant({ onClose }: { onClose(): void }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const [name, setName] = useState("");
  const [template, setTemplate] = useState("lead-qualification");
  const m = useMutation({
    mutationFn: () => post<Assistant>("/assistants", template ? { name, template } : { name }),
    onSuccess: (a) => {
      void qc.invalidateQueries({ queryKey: ["assistants"] });
      nav("/assistants/" + a.id + "/builder");
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    m.mutate();
  }
  return (
    <Dialog title="New assistant" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} autoFocus placeholder="e.g. Ava" />
        </label>
        <fieldset className="templates">
          <legend>Start from</legend>
          {templates.map((t) => (
            <label key={t.id} className={"template" + (template === t.id ? " on" : "")}>
              <input type="radio" name="template" value={t.id} checked={template === t.id} onChange={() => setTemplate(t.id)} />
              <strong>{t.name}</strong>
              <span className="muted small">{t.about}</span>
            </label>
          ))}
        </fieldset>
        {m.error && <div className="error" role="alert">{errorText(m.error)}</div>}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={m.isPending || !name.trim()}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function Assistants() {
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const q = useQuery({ queryKey: ["assistants"], queryFn: () => get<{ assistants: Assistant[] }>("/assistants?limit=200") });
  const remove = useMutation({
    mutationFn: (id: string) => del("/assistants/" + id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["assistants"] }),
  });
  const list = q.data?.assistants || [];
  return (
    <div className="page">
      <div className="row between">
        <h1>Assistants</h1>
        <button className="primary" onClick={() => setCreating(true)}>
          New assistant
        </button>
      </div>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {remove.error && <div className="error">{errorText(remove.error)}</div>}
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Channels</th>
            <th>Version</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((a) => (
            <tr key={a.id}>
              <td>
                <Link to={"/assistants/" + a.id + "/builder"}>{a.name}</Link>
              </td>
              <td>
                <span className={"badge " + a.status}>{a.status}</span>
              </td>
              <td>{(a.channels || []).map((c) => c.name).join(", ") || <span className="muted">none</span>}</td>
              <td>{a.latest_version ? "v" + a.latest_version : <span className="muted">unpublished</span>}</td>
              <td className="muted">{new Date(a.updated_at).toLocaleString()}</td>
              <td className="right">
                <button
                  className="linkish danger"
                  onClick={() => {
                    if (confirm("Delete " + a.name + "? Its versions and draft go too.")) remove.mutate(a.id);
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {!q.isLoading && list.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No assistants yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {creating && <NewAssistant onClose={() => setCreating(false)} />}
    </div>
  );
}
