import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { del, errorText, get, patch, post, put } from "../api";
import type { Assistant, Channel } from "../types";

function ChannelCard({ ch, assistants }: { ch: Channel; assistants: Assistant[] }) {
  const qc = useQueryClient();
  const [origins, setOrigins] = useState((ch.allowed_origins || []).join("\n"));
  useEffect(() => setOrigins((ch.allowed_origins || []).join("\n")), [ch.allowed_origins]);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["channels"] });
    void qc.invalidateQueries({ queryKey: ["assistants"] });
  };
  const save = useMutation({
    mutationFn: () => patch<Channel>("/channels/" + ch.id, { allowed_origins: origins.split(/\s+/).filter(Boolean) }),
    onSuccess: refresh,
  });
  const connect = useMutation({
    mutationFn: (assistant: string) => (assistant ? put<Channel>(`/channels/${ch.id}/assistant`, { assistant_id: assistant }) : del<Channel>(`/channels/${ch.id}/assistant`)),
    onSuccess: refresh,
  });
  const [copied, setCopied] = useState(false);
  return (
    <section className="card channel" data-testid={"channel-" + ch.id}>
      <h3>{ch.name}</h3>
      <div className="muted small">
        Public key <code>{ch.public_key}</code>
      </div>
      <label>
        Assistant
        <select value={ch.assistant?.id || ""} onChange={(e) => connect.mutate(e.target.value)} disabled={connect.isPending}>
          <option value="">(none: the channel's default response)</option>
          {assistants.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} {a.status === "draft" ? "(not published)" : ""}
            </option>
          ))}
        </select>
      </label>
      {connect.error && <div className="error">{errorText(connect.error)}</div>}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <label>
          Allowed origins, one per line (the sites that may embed the widget)
          <textarea rows={4} value={origins} onChange={(e) => setOrigins(e.target.value)} placeholder="https://www.example.com" className="mono" />
        </label>
        {save.error && <div className="error">{errorText(save.error)}</div>}
        {save.isSuccess && <div className="ok">Saved.</div>}
        <div>
          <button type="submit" disabled={save.isPending}>
            Save origins
          </button>
        </div>
      </form>
      <label>
        Embed snippet: paste it before &lt;/body&gt; on every page
        <textarea readOnly rows={2} className="mono" value={ch.embed_snippet} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div>
        <button
          onClick={() => {
            void navigator.clipboard?.writeText(ch.embed_snippet).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            });
          }}
        >
          {copied ? "Copied" : "Copy snippet"}
        </button>
      </div>
    </section>
  );
}

export function Channels() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["channels"], queryFn: () => get<{ channels: Channel[] }>("/channels?limit=100") });
  const a = useQuery({ queryKey: ["assistants"], queryFn: () => get<{ assistants: Assistant[] }>("/assistants?limit=200") });
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => post<Channel>("/channels", { name }),
    onSuccess: () => {
      setName("");
      void qc.invalidateQueries({ queryKey: ["channels"] });
    },
  });
  return (
    <div className="page">
      <h1>Channels</h1>
      <p className="muted">A channel is a website widget. Its allowed origins list the sites that may show it; the visitor socket refuses the others.</p>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      <div className="grid2">
        {(q.data?.channels || []).map((ch) => (
          <ChannelCard key={ch.id} ch={ch} assistants={a.data?.assistants || []} />
        ))}
      </div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <input placeholder="New channel name" value={name} onChange={(e) => setName(e.target.value)} required />
        <button type="submit" disabled={create.isPending}>
          Add a channel
        </button>
        {create.error && <span className="error">{errorText(create.error)}</span>}
      </form>
    </div>
  );
}
