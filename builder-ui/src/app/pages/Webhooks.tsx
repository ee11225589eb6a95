// The workspace's outbound webhooks (/api/v1/webhooks, docs/webhooks.md):
// endpoints with the events they get, create and edit, enable and disable,
// delete, the signing secret shown once (on create and on rotation), and
// each endpoint's deliveries with redelivery of the dead ones. Every route
// needs an admin or the owner, so agents get a sentence instead.
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { del, errorText, get, patch, post, restText } from "../api";
import { useAuth } from "../auth";
import { Field, FieldError, ShownOnce, when } from "../forms";
import type { Webhook, WebhookDelivery, WebhookWithSecret } from "../types";
import { Dialog, Empty } from "../ui";

/** ALL stands for every event type, including types added later
 * (webhook.EventAll). */
const ALL = "*";

/** EVENTS mirrors webhook.EventTypes (webhook/events.go), in its order,
 * with docs/webhooks.md's "sent when". The server refuses any other type
 * (422 naming body.events[i]), which the form shows under the list. */
const EVENTS: { type: string; about: string }[] = [
  { type: "conversation.created", about: "a visitor starts a chat" },
  { type: "conversation.handover_requested", about: "the bot asks for a human" },
  { type: "conversation.assigned", about: "an agent claims the chat or is given it" },
  { type: "conversation.closed", about: "the bot ends the chat, or an agent closes it" },
  { type: "lead.created", about: "a lead is captured, by the bot or an agent" },
  { type: "deal.created", about: "an agent creates a deal" },
];

/** MAX_WEBHOOKS is the server's cap per workspace (docs/webhooks.md). */
const MAX_WEBHOOKS = 20;

/** changes is the PATCH body: only what the form changed, so an unchanged
 * URL is not judged again (its host's DNS may be down for a moment). */
function changes(hook: Webhook, v: { url: string; events: string[]; enabled: boolean }) {
  const body: Partial<typeof v> = {};
  if (v.url !== hook.url) body.url = v.url;
  if ([...v.events].sort().join() !== [...hook.events].sort().join()) body.events = v.events;
  if (v.enabled !== hook.enabled) body.enabled = v.enabled;
  return body;
}

/** WebhookForm creates an endpoint (then shows its secret, once) or edits
 * one. The server judges the URL (https, public host: the SSRF rules), so
 * the form leaves that to it and shows its answer under the field. */
function WebhookForm({ hook, onClose }: { hook?: Webhook; onClose(): void }) {
  const qc = useQueryClient();
  const [url, setURL] = useState(hook?.url || "");
  const [events, setEvents] = useState<string[]>(hook?.events || []);
  const [enabled, setEnabled] = useState(hook?.enabled ?? true);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  const m = useMutation({
    mutationFn: () =>
      hook
        ? patch<Webhook>("/webhooks/" + hook.id, changes(hook, { url, events, enabled }))
        : post<WebhookWithSecret>("/webhooks", { url, events, enabled }),
    onSuccess: (w) => {
      void qc.invalidateQueries({ queryKey: ["webhooks"] });
      if (hook) onClose();
      else setCreated(w as WebhookWithSecret);
    },
  });
  const all = events.includes(ALL);
  // Types the list does not know (a newer server's) stay listed, so an
  // edit does not drop them silently.
  const known = [...EVENTS, ...events.filter((e) => e !== ALL && !EVENTS.some((x) => x.type === e)).map((type) => ({ type, about: "" }))];
  const toggle = (type: string, on: boolean) => setEvents((cur) => (on ? [...cur.filter((e) => e !== type), type] : cur.filter((e) => e !== type)));
  function submit(e: FormEvent) {
    e.preventDefault();
    m.mutate();
  }
  if (created) {
    return (
      <Dialog title="Endpoint created" onClose={onClose}>
        <div className="stack">
          <p className="wrap">
            Deliveries to <code>{created.url}</code> are signed with this secret (the <code>webhook-signature</code> header, Standard Webhooks style). Keep it on
            the receiver to verify them.
          </p>
          <ShownOnce label="Signing secret" value={created.secret} />
          <div className="row end">
            <button className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog title={hook ? "Edit endpoint" : "New webhook endpoint"} onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Endpoint URL" hint="https only, on a public host: the server refuses local and private addresses." error={m.error} at="body.url">
          {(p) => (
            <input {...p} type="url" className="mono" value={url} onChange={(e) => setURL(e.target.value)} placeholder="https://crm.example.com/hooks/frontdesk" autoFocus />
          )}
        </Field>
        <fieldset className="events">
          <legend>Events to send</legend>
          <label className="check">
            <input type="checkbox" checked={all} onChange={(e) => setEvents(e.target.checked ? [ALL] : [])} />
            <span>
              <strong>All events</strong> <span className="muted small">including types added later</span>
            </span>
          </label>
          {known.map((ev) => (
            <label key={ev.type} className="check">
              <input type="checkbox" checked={all || events.includes(ev.type)} disabled={all} onChange={(e) => toggle(ev.type, e.target.checked)} />
              <span>
                <code>{ev.type}</code> {ev.about && <span className="muted small">{ev.about}</span>}
              </span>
            </label>
          ))}
          <FieldError error={m.error} at="body.events" />
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled: send new events to it
        </label>
        {m.error && restText(m.error, ["body.url", "body.events"]) && (
          <div className="error" role="alert">
            {restText(m.error, ["body.url", "body.events"])}
          </div>
        )}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={m.isPending || !url.trim() || events.length === 0}>
            {hook ? "Save" : "Create endpoint"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Response is what the receiver answered on the last attempt: its HTTP
 * status, or why no answer came (refused, timed out, …). */
function Response({ d, short }: { d: WebhookDelivery; short?: boolean }) {
  if (!d.last_attempt_at) return <span className="muted">not tried yet</span>;
  return (
    <span className="response">
      {d.last_status ? <span className="mono">HTTP {d.last_status}</span> : <span className="muted">no response</span>}
      {d.status !== "delivered" && d.last_error && (
        <span className={"muted small" + (short ? " clip" : " wrap")} title={d.last_error}>
          {d.last_error}
        </span>
      )}
    </span>
  );
}

/** LastDelivery is the newest delivery of an endpoint, for the list. */
function LastDelivery({ hook }: { hook: Webhook }) {
  const q = useQuery({
    queryKey: ["webhook-deliveries", hook.id, "last"],
    queryFn: () => get<{ deliveries: WebhookDelivery[] }>(`/webhooks/${hook.id}/deliveries?limit=1`),
    refetchInterval: 10_000,
  });
  const d = q.data?.deliveries[0];
  if (q.error) return <span className="error small">{errorText(q.error)}</span>;
  if (!d) return <span className="muted">{q.isLoading ? "…" : "none yet"}</span>;
  return (
    <div className="last-delivery">
      <div>
        <span className={"badge " + d.status}>{d.status}</span> <span className="muted small">{when(d.last_attempt_at || d.created_at)}</span>
      </div>
      <div className="small mono">{d.event_type}</div>
      <Response d={d} short />
    </div>
  );
}

/** Deliveries is an endpoint's log, newest first, refreshed while open
 * (the dispatcher works in the background). A dead delivery can be put back
 * in the queue, if the endpoint is enabled (the server answers 409 otherwise). */
function Deliveries({ hook, onClose }: { hook: Webhook; onClose(): void }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState("");
  const q = useQuery({
    queryKey: ["webhook-deliveries", hook.id, status],
    queryFn: () => get<{ deliveries: WebhookDelivery[] }>(`/webhooks/${hook.id}/deliveries?limit=50` + (status ? "&status=" + status : "")),
    refetchInterval: 3_000,
  });
  const redeliver = useMutation({
    mutationFn: (d: WebhookDelivery) => post<WebhookDelivery>(`/webhooks/${hook.id}/deliveries/${d.id}/redeliver`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["webhook-deliveries", hook.id] }),
  });
  const list = q.data?.deliveries || [];
  return (
    <section className="card deliveries" data-testid="deliveries" aria-label={"Deliveries to " + hook.url}>
      <div className="row between">
        <h2 className="wrap">
          Deliveries to <code>{hook.url}</code>
        </h2>
        <div className="row">
          <label className="check">
            Status
            <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Delivery status">
              <option value="">all</option>
              <option value="pending">pending</option>
              <option value="delivered">delivered</option>
              <option value="dead">dead (the dead letter)</option>
            </select>
          </label>
          <button className="icon" aria-label="Close the deliveries" onClick={onClose}>
            ×
          </button>
        </div>
      </div>
      <p className="muted small">
        A failed attempt is retried with backoff (5 s, 30 s, 2 min, … up to 8 attempts), then the delivery is dead. Redelivering sends it again under the same{" "}
        <code>webhook-id</code>.{!hook.enabled && " This endpoint is disabled: enable it to redeliver."}
      </p>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {redeliver.error && <div className="error">{errorText(redeliver.error)}</div>}
      <table className="table">
        <thead>
          <tr>
            <th>Event</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Response</th>
            <th>Created</th>
            <th>Last attempt</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((d) => (
            <tr key={d.id} data-testid="delivery">
              <td>
                <code>{d.event_type}</code>
                <div className="muted small mono" title="The webhook-id header">
                  {d.event_id}
                </div>
              </td>
              <td>
                <span className={"badge " + d.status}>{d.status}</span>
                {d.status === "pending" && d.next_attempt_at && <div className="muted small">next try {when(d.next_attempt_at)}</div>}
                {d.delivered_at && <div className="muted small">{when(d.delivered_at)}</div>}
              </td>
              <td data-testid="attempts">{d.attempts}</td>
              <td className="response-cell">
                <Response d={d} />
              </td>
              <td className="muted">{when(d.created_at)}</td>
              <td className="muted">{when(d.last_attempt_at) || "—"}</td>
              <td className="right">
                {d.status === "dead" && (
                  <button onClick={() => redeliver.mutate(d)} disabled={!hook.enabled || redeliver.isPending} title={hook.enabled ? undefined : "Enable the endpoint first"}>
                    Redeliver
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!q.isLoading && list.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No deliveries{status ? " with this status" : " yet: events the endpoint subscribes to will show up here"}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

export function Webhooks() {
  const { isAdmin } = useAuth();
  if (!isAdmin) {
    return (
      <div className="page narrow">
        <h1>Webhooks</h1>
        <Empty>Only admins and the owner manage the workspace's webhooks.</Empty>
      </div>
    );
  }
  return <WebhookList />;
}

function WebhookList() {
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [rotated, setRotated] = useState<WebhookWithSecret | null>(null);
  const q = useQuery({ queryKey: ["webhooks"], queryFn: () => get<{ webhooks: Webhook[] }>("/webhooks") });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["webhooks"] });
  const toggle = useMutation({ mutationFn: (w: Webhook) => patch<Webhook>("/webhooks/" + w.id, { enabled: !w.enabled }), onSuccess: refresh });
  const rotate = useMutation({
    mutationFn: (w: Webhook) => post<WebhookWithSecret>(`/webhooks/${w.id}/rotate-secret`),
    onSuccess: (w) => {
      setRotated(w);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (w: Webhook) => del("/webhooks/" + w.id),
    onSuccess: (_, w) => {
      if (params.get("deliveries") === w.id) setParams({});
      refresh();
    },
  });
  const list = q.data?.webhooks || [];
  const open = list.find((w) => w.id === params.get("deliveries"));
  const actionError = toggle.error || rotate.error || remove.error;
  return (
    <div className="page">
      <div className="row between">
        <h1>Webhooks</h1>
        <button className="primary" onClick={() => setEditing("new")} disabled={list.length >= MAX_WEBHOOKS} title={list.length >= MAX_WEBHOOKS ? "At most " + MAX_WEBHOOKS + " endpoints" : undefined}>
          New endpoint
        </button>
      </div>
      <p className="muted">
        Frontdesk POSTs a signed JSON event to each endpoint when a chat starts, is handed over, assigned or closed, or a lead or deal is created. Deliveries are
        at least once: deduplicate on the <code>webhook-id</code> header.
      </p>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {actionError && <div className="error">{errorText(actionError)}</div>}
      <table className="table webhooks">
        <thead>
          <tr>
            <th>Endpoint</th>
            <th>Events</th>
            <th>Status</th>
            <th>Last delivery</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((w) => (
            <tr key={w.id} data-testid={"webhook-" + w.id} className={open?.id === w.id ? "selected" : undefined}>
              <td className="wrap">
                <code>{w.url}</code>
                {w.previous_secret_expires_at && <div className="muted small">The previous secret also signs until {when(w.previous_secret_expires_at)}.</div>}
              </td>
              <td>
                <div className="chips">
                  {w.events.map((e) => (
                    <span key={e} className="chip">
                      {e === ALL ? "all events" : e}
                    </span>
                  ))}
                </div>
              </td>
              <td>
                <span className={"badge " + (w.enabled ? "enabled" : "disabled")}>{w.enabled ? "enabled" : "disabled"}</span>
              </td>
              <td>
                <LastDelivery hook={w} />
              </td>
              <td>
                <div className="actions">
                  <button className="linkish" onClick={() => setParams({ deliveries: w.id })}>
                    Deliveries
                  </button>
                  <button className="linkish" onClick={() => setEditing(w)}>
                    Edit
                  </button>
                  <button className="linkish" onClick={() => toggle.mutate(w)} disabled={toggle.isPending}>
                    {w.enabled ? "Disable" : "Enable"}
                  </button>
                  <button
                    className="linkish"
                    onClick={() => {
                      if (confirm("Make a new signing secret for " + w.url + "? The current one keeps signing beside it for 24 hours, so the receiver can switch."))
                        rotate.mutate(w);
                    }}
                    disabled={rotate.isPending}
                  >
                    Rotate secret
                  </button>
                  <button
                    className="linkish danger"
                    onClick={() => {
                      if (confirm("Delete the endpoint " + w.url + "? Its pending deliveries and their log go too.")) remove.mutate(w);
                    }}
                    disabled={remove.isPending}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
          {!q.isLoading && list.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No endpoints yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {open && <Deliveries key={open.id} hook={open} onClose={() => setParams({})} />}
      {editing && <WebhookForm hook={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      {rotated && (
        <Dialog title="New signing secret" onClose={() => setRotated(null)}>
          <div className="stack">
            <p className="wrap">
              For <code>{rotated.url}</code>. Until {when(rotated.previous_secret_expires_at) || "the grace period ends"}, every delivery carries two signatures,
              one per secret: deploy the new one on the receiver before then.
            </p>
            <ShownOnce label="Signing secret" value={rotated.secret} />
            <div className="row end">
              <button className="primary" onClick={() => setRotated(null)}>
                Done
              </button>
            </div>
          </div>
        </Dialog>
      )}
    </div>
  );
}

export default Webhooks;
