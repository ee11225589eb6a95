// The channels page: each web widget channel with its assistant, allowed
// origins, default response (what visitors get while no assistant answers)
// and embed snippet, and identity verification (the secret a site's backend
// signs its logged-in visitors with); and a form for a new channel. The
// server's field errors (RFC 9457 errors[].location) are shown under their
// field.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, del, errorText, get, patch, post, put, restText } from "../api";
import { CopyButton, Field, FieldError, ShownOnce } from "../forms";
import type { Assistant, Channel } from "../types";

/** langPattern is the server's language code syntax (assistantLanguageRe). */
const langPattern = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

/** The languages the default response speaks (chat/default_response.go):
 * a visitor in another language gets the default language's greeting. */
const spoken = ["en", "fr", "es", "de"];

/** splitOrigins reads the origins textarea: one per line (or separated by
 * spaces). */
const splitOrigins = (s: string) => s.split(/\s+/).filter(Boolean);

/** OriginErrors shows the server's errors about allowed_origins under the
 * field, each naming the origin it refuses (errors[].value). */
function OriginErrors({ error, id }: { error: unknown; id?: string }) {
  if (!(error instanceof ApiError)) return null;
  const at = "body.allowed_origins";
  const mine = error.errors.filter((f) => f.location === at || f.location?.startsWith(at + "["));
  if (!mine.length) return null;
  return (
    <div className="field-error" role="alert" id={id} data-field={at}>
      {mine.map((f, i) => (
        <div key={i}>
          {typeof f.value === "string" && f.value !== "" ? <code>{f.value}</code> : null}
          {typeof f.value === "string" && f.value !== "" ? ": " : null}
          {f.message || "invalid"}
        </div>
      ))}
    </div>
  );
}

interface GreetingRow {
  key: number;
  lang: string;
  text: string;
}

type Then = "capture" | "queue";

const thenChoices: { value: Then; label: string; about: string }[] = [
  {
    value: "queue",
    label: "Queue the chat for an agent",
    about: "An online agent can claim it; when nobody does within 5 minutes, or nobody is online, the visitor is asked for contact details.",
  },
  {
    value: "capture",
    label: "Ask for contact details",
    about: "At once: name (optional), email and how we can help; the team gets back to the visitor.",
  },
];

let rowKey = 0;
function rowsOf(greeting: Record<string, string> | undefined): GreetingRow[] {
  const rows = Object.entries(greeting || {}).map(([lang, text]) => ({ key: ++rowKey, lang, text }));
  // No greeting stored (the demo channel's case): start with an English one to fill in.
  return rows.length ? rows : [{ key: ++rowKey, lang: "en", text: "" }];
}

/** DefaultResponseForm edits what a channel answers while no assistant is
 * published on it, or while the assistant is off: a greeting per language,
 * then the queue or contact capture. PATCH /channels/{id} replaces it as a
 * whole. */
function DefaultResponseForm({ ch, onSaved }: { ch: Channel; onSaved(): void }) {
  const stored = JSON.stringify(ch.default_response || {});
  const [rows, setRows] = useState<GreetingRow[]>(() => rowsOf(ch.default_response?.greeting));
  const [then, setThen] = useState<Then>(ch.default_response?.then || "capture");
  const [add, setAdd] = useState("");
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    // The server's copy changed (saved here or elsewhere): show it.
    setRows(rowsOf(ch.default_response?.greeting));
    setThen(ch.default_response?.then || "capture");
    setDirty(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stored]);
  const save = useMutation({
    mutationFn: () => {
      const greeting: Record<string, string> = {};
      for (const r of rows) greeting[r.lang] = r.text;
      return patch<Channel>("/channels/" + ch.id, { default_response: { greeting, then } });
    },
    onSuccess: () => {
      setDirty(false);
      onSaved();
    },
  });
  const edit = (f: () => void) => {
    f();
    setDirty(true);
    if (save.isSuccess) save.reset();
  };
  const code = add.trim().toLowerCase();
  const taken = rows.some((r) => r.lang === code);
  const addOK = langPattern.test(code) && !taken;
  const addLanguage = () => {
    if (!addOK) return;
    edit(() => setRows((rs) => [...rs, { key: ++rowKey, lang: code, text: "" }]));
    setAdd("");
  };
  const base = "body.default_response";
  const rest = save.error ? restText(save.error, [base]) : "";
  const unspoken = rows.map((r) => r.lang).filter((l) => !spoken.includes(l));
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack tight default-response" onSubmit={submit} noValidate aria-label={"Default response of " + ch.name} data-testid="default-response">
      <h4>Default response</h4>
      <p className="muted small">
        What visitors get while no assistant is published on this channel, or while its assistant is off (out of office, outside its availability).
      </p>
      <fieldset className="greetings">
        <legend>Greeting</legend>
        {rows.map((r) => (
          <div key={r.key} className="row nowrap top greeting-row">
            <Field label={<span className="code">{r.lang}</span>} error={save.error} at={base + ".greeting." + r.lang}>
              {(p) => (
                <textarea
                  {...p}
                  rows={2}
                  value={r.text}
                  aria-label={"Greeting (" + r.lang + ")"}
                  placeholder={r.lang === "en" ? "Hi! How can we help you today?" : ""}
                  onChange={(e) => {
                    const text = e.target.value;
                    edit(() => setRows((rs) => rs.map((x) => (x.key === r.key ? { ...x, text } : x))));
                  }}
                />
              )}
            </Field>
            <button type="button" className="icon" aria-label={"Remove " + r.lang} title={"Remove the " + r.lang + " greeting"} onClick={() => edit(() => setRows((rs) => rs.filter((x) => x.key !== r.key)))}>
              ×
            </button>
          </div>
        ))}
        {rows.length === 0 && <div className="muted small">No greeting: add a language.</div>}
        <FieldError error={save.error} at={base + ".greeting"} exact />
        <div className="row nowrap">
          <input
            aria-label="Add a greeting language"
            placeholder="fr, de, pt-br…"
            className="short"
            value={add}
            maxLength={12}
            list="fd-greeting-langs"
            onChange={(e) => setAdd(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addLanguage();
              }
            }}
          />
          <button type="button" disabled={!addOK} onClick={addLanguage}>
            Add language
          </button>
          {add && !langPattern.test(code) && <span className="field-error">A code such as en, fr or pt-br.</span>}
          {add && taken && <span className="field-error">Already there.</span>}
        </div>
        <span className="muted small">
          Visitors get the greeting in their language when it is English, French, Spanish or German; in the others, and where a language has no greeting, the English one (or
          the built-in greeting).
          {unspoken.length > 0 && (
            <>
              {" "}
              Not used: <code>{unspoken.join(", ")}</code>.
            </>
          )}
        </span>
      </fieldset>
      <fieldset className="then">
        <legend>Once the visitor answers the greeting</legend>
        {thenChoices.map((c) => (
          <label key={c.value} className="check top">
            <input type="radio" name={"then-" + ch.id} value={c.value} checked={then === c.value} onChange={() => edit(() => setThen(c.value))} />
            <span>
              {c.label}
              <span className="muted small"> {c.about}</span>
            </span>
          </label>
        ))}
        <FieldError error={save.error} at={base + ".then"} />
      </fieldset>
      {rest && (
        <div className="error" role="alert">
          {rest}
        </div>
      )}
      <div className="row">
        <button type="submit" disabled={save.isPending}>
          Save default response
        </button>
        {save.isSuccess && !dirty && (
          <span className="ok" role="status">
            Saved.
          </span>
        )}
      </div>
      <datalist id="fd-greeting-langs">
        {spoken.map((l) => (
          <option key={l} value={l} />
        ))}
      </datalist>
    </form>
  );
}

/** signingSnippet shows how a site's backend signs a logged-in user, and
 * what the page passes to the widget (docs/websocket.md, "Signed identity"). */
const signingSnippet = `// On your server (Node), for the logged-in user:
const crypto = require("node:crypto");
const signature = crypto
  .createHmac("sha256", process.env.FRONTDESK_IDENTITY_SECRET)
  .update(user.id) // or user.email when there is no id
  .digest("hex");

<!-- In the page, before the embed snippet: -->
<script>
  window.Frontdesk = { q: [["identify", {
    id: "USER_ID", email: "USER_EMAIL", name: "USER_NAME",
    signature: "SIGNATURE"
  }]] };
</script>`;

/** IdentityVerification turns signed visitor identity on (a new secret,
 * shown once), rotates the secret, or turns it off. */
function IdentityVerification({ ch, onChanged }: { ch: Channel; onChanged(): void }) {
  const [secret, setSecret] = useState("");
  const on = !!ch.identity_verification;
  const generate = useMutation({
    mutationFn: () => post<{ secret: string; channel: Channel }>(`/channels/${ch.id}/identity-secret`),
    onSuccess: (r) => {
      setSecret(r.secret);
      onChanged();
    },
  });
  const off = useMutation({
    mutationFn: () => del<Channel>(`/channels/${ch.id}/identity-secret`),
    onSuccess: () => {
      setSecret("");
      onChanged();
    },
  });
  const since = ch.identity_secret_set_at ? new Date(ch.identity_secret_set_at).toLocaleString() : "";
  const snippet = useRef<HTMLTextAreaElement>(null);
  const error = generate.error || off.error;
  return (
    <section className="stack tight identity-verification" aria-label={"Identity verification of " + ch.name} data-testid="identity-verification">
      <h4>Identity verification</h4>
      <p className="muted small">
        Logged-in visitors find their conversation, and its history, on every device. Your site&apos;s backend signs each user&apos;s id (or email) with this channel&apos;s
        secret, and the page passes the signature to <code>Frontdesk.identify()</code>. A signature that does not verify is refused: the chat is unavailable for that
        visitor.
      </p>
      <div data-testid="identity-status">
        {on ? (
          <>
            <span className="badge active">on</span> since {since}
          </>
        ) : (
          <>
            <span className="badge">off</span> Identities from the widget are ignored: every visitor is anonymous.
          </>
        )}
      </div>
      <div className="row">
        <button
          type="button"
          disabled={generate.isPending}
          onClick={() => {
            if (on && !confirm("Rotate the identity secret of " + ch.name + "? Signatures made with the current secret stop working at once: visitors signed with it cannot chat until your backend signs with the new one.")) return;
            generate.mutate();
          }}
        >
          {on ? "Rotate secret" : "Generate secret"}
        </button>
        {on && (
          <button
            type="button"
            className="danger"
            disabled={off.isPending}
            onClick={() => {
              if (confirm("Turn identity verification off for " + ch.name + "? Identities are ignored again and every visitor is anonymous.")) off.mutate();
            }}
          >
            Turn off
          </button>
        )}
      </div>
      {error && (
        <div className="error" role="alert">
          {errorText(error)}
        </div>
      )}
      {secret && (
        <ShownOnce label="Identity secret" value={secret}>
          Keep it on your server (e.g. FRONTDESK_IDENTITY_SECRET); never put it in a page.
        </ShownOnce>
      )}
      <label>
        How your site signs a visitor
        <textarea ref={snippet} readOnly rows={12} className="mono" value={signingSnippet} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div>
        <CopyButton text={signingSnippet} field={snippet} label="Copy signing example" />
      </div>
    </section>
  );
}

function ChannelCard({ ch, assistants }: { ch: Channel; assistants: Assistant[] }) {
  const qc = useQueryClient();
  const [origins, setOrigins] = useState((ch.allowed_origins || []).join("\n"));
  useEffect(() => setOrigins((ch.allowed_origins || []).join("\n")), [ch.allowed_origins]);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["channels"] });
    void qc.invalidateQueries({ queryKey: ["assistants"] });
  };
  const save = useMutation({
    mutationFn: () => patch<Channel>("/channels/" + ch.id, { allowed_origins: splitOrigins(origins) }),
    onSuccess: refresh,
  });
  const connect = useMutation({
    mutationFn: (assistant: string) => (assistant ? put<Channel>(`/channels/${ch.id}/assistant`, { assistant_id: assistant }) : del<Channel>(`/channels/${ch.id}/assistant`)),
    onSuccess: refresh,
  });
  const snippet = useRef<HTMLTextAreaElement>(null);
  const originsRest = save.error ? restText(save.error, ["body.allowed_origins"]) : "";
  return (
    <section className="card channel" data-testid={"channel-" + ch.id} aria-label={ch.name}>
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
        className="stack tight"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <label>
          Allowed origins, one per line (the sites that may embed the widget)
          <textarea
            rows={4}
            value={origins}
            onChange={(e) => {
              setOrigins(e.target.value);
              if (save.isSuccess) save.reset();
            }}
            placeholder="https://www.example.com"
            className="mono"
            aria-invalid={save.error instanceof ApiError && save.error.errors.some((f) => f.location?.startsWith("body.allowed_origins"))}
          />
        </label>
        <OriginErrors error={save.error} />
        {originsRest && <div className="error">{originsRest}</div>}
        <div className="row">
          <button type="submit" disabled={save.isPending}>
            Save origins
          </button>
          {save.isSuccess && <span className="ok">Saved.</span>}
        </div>
      </form>
      <DefaultResponseForm ch={ch} onSaved={refresh} />
      <label>
        Embed snippet: paste it before &lt;/body&gt; on every page
        <textarea ref={snippet} readOnly rows={2} className="mono" value={ch.embed_snippet} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div>
        <CopyButton text={ch.embed_snippet} field={snippet} label="Copy snippet" />
      </div>
      <IdentityVerification ch={ch} onChanged={refresh} />
    </section>
  );
}

/** NewChannel creates a channel with a name and, optionally, its allowed
 * origins; the server's refusals show under their field. */
function NewChannel() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [origins, setOrigins] = useState("");
  const create = useMutation({
    mutationFn: () => {
      const list = splitOrigins(origins);
      return post<Channel>("/channels", list.length ? { name, allowed_origins: list } : { name });
    },
    onSuccess: () => {
      setName("");
      setOrigins("");
      void qc.invalidateQueries({ queryKey: ["channels"] });
    },
  });
  const rest = create.error ? restText(create.error, ["body.name", "body.allowed_origins"]) : "";
  return (
    <form
      className="card stack tight new-channel"
      aria-label="New channel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <h3>New channel</h3>
      <Field label="Name" error={create.error} at="body.name">
        {(p) => <input {...p} placeholder="e.g. Main website" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <div className="field">
        <label htmlFor="new-channel-origins">Allowed origins, one per line (optional; you can add them later)</label>
        <textarea
          id="new-channel-origins"
          rows={2}
          className="mono"
          placeholder="https://www.example.com"
          value={origins}
          onChange={(e) => setOrigins(e.target.value)}
          aria-invalid={create.error instanceof ApiError && create.error.errors.some((f) => f.location?.startsWith("body.allowed_origins"))}
          aria-describedby="new-channel-origins-error"
        />
        <OriginErrors error={create.error} id="new-channel-origins-error" />
      </div>
      {rest && (
        <div className="error" role="alert">
          {rest}
        </div>
      )}
      <div>
        <button type="submit" disabled={create.isPending || !name.trim()}>
          Add a channel
        </button>
      </div>
    </form>
  );
}

export function Channels() {
  const q = useQuery({ queryKey: ["channels"], queryFn: () => get<{ channels: Channel[] }>("/channels?limit=100") });
  const a = useQuery({ queryKey: ["assistants"], queryFn: () => get<{ assistants: Assistant[] }>("/assistants?limit=200") });
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
      <NewChannel />
    </div>
  );
}
