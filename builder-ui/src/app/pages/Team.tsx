// The team (/api/v1/users) and API tokens (/api/v1/tokens) of the
// workspace. Any member may list the team; adding members, changing their
// role or their permission to build assistants, deactivating and
// reactivating them, and tokens need an admin or the owner (api/people.go),
// so the page offers those only to them. The owner is made at setup: that
// role cannot be given, taken or changed, and the owner cannot be
// deactivated; nobody can deactivate themselves.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, del, errorText, get, patch, post, restText } from "../api";
import { useAuth } from "../auth";
import { Field, FieldError, ShownOnce, when } from "../forms";
import type { APIToken, CreatedToken, Member } from "../types";
import { Dialog } from "../ui";

/** TeamMember is a member with the deactivation fields of the API's
 * member (PATCH /users/{id} with `active`). */
type TeamMember = Member & { active?: boolean; deactivated_at?: string };

/** isDeactivated: a member is active unless the server says otherwise. */
function isDeactivated(m: TeamMember): boolean {
  return m.active === false;
}

/** ROLES says what each role may do: the access levels of api/server.go
 * (agent, builder, admin) as the routes use them. */
const ROLES: { role: Member["role"]; can: string }[] = [
  {
    role: "owner",
    can: "Everything an admin can. Made when the workspace is set up; there is one, only the owner may change the owner's account, and it cannot be deactivated.",
  },
  {
    role: "admin",
    can: "Everything: builds and publishes assistants, manages channels, webhooks, the team and API tokens, sees every chat and the leads.",
  },
  {
    role: "agent",
    can: "Answers chats: sees the queue, their own chats, bot chats and closed ones; claims, takes over, hands back, closes, and creates leads and deals. With “Builds assistants” also builds, previews and publishes assistants and reads their analytics.",
  },
];

function memberLabel(m: Member | undefined, fallback: string) {
  return m ? m.name || m.email : fallback;
}

/** NewMember adds an agent or admin with an initial password; the server
 * names each refused field (email, password policy), shown under it. */
function NewMember({ onClose }: { onClose(): void }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<"agent" | "admin">("agent");
  const [build, setBuild] = useState(false);
  const [password, setPassword] = useState("");
  const m = useMutation({
    mutationFn: () =>
      post<Member>("/users", { email, name: name || undefined, role, manage_assistants: role === "agent" && build ? true : undefined, password }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["users"] });
      onClose();
    },
  });
  const placed = ["body.email", "body.name", "body.role", "body.password"];
  // A duplicate email is a 409 without a field; it belongs under the email.
  const duplicate = m.error instanceof ApiError && m.error.status === 409;
  function submit(e: FormEvent) {
    e.preventDefault();
    m.mutate();
  }
  return (
    <Dialog title="Add a member" onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Email" error={m.error} at="body.email" also={duplicate ? errorText(m.error) : undefined}>
          {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus autoComplete="off" />}
        </Field>
        <Field label="Name (optional)" error={m.error} at="body.name">
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} autoComplete="off" />}
        </Field>
        <fieldset className="roles">
          <legend>Role</legend>
          {ROLES.filter((r) => r.role !== "owner").map((r) => (
            <label key={r.role} className={"template" + (role === r.role ? " on" : "")}>
              <input type="radio" name="role" value={r.role} checked={role === r.role} onChange={() => setRole(r.role as "agent" | "admin")} />
              <strong>{r.role === "admin" ? "Admin" : "Agent"}</strong>
              <span className="muted small">{r.can}</span>
            </label>
          ))}
          {role === "agent" && (
            <label className="check">
              <input type="checkbox" checked={build} onChange={(e) => setBuild(e.target.checked)} />
              Builds assistants (the “manage assistants” permission)
            </label>
          )}
          <FieldError error={m.error} at="body.role" />
        </fieldset>
        <Field label="Initial password" hint="At least 10 characters, not the email. Give it to them privately." error={m.error} at="body.password">
          {(p) => <input {...p} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />}
        </Field>
        {m.error && !duplicate && restText(m.error, placed) && (
          <div className="error" role="alert">
            {restText(m.error, placed)}
          </div>
        )}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={m.isPending || !email.trim() || !password}>
            Add member
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** MemberRow is a member; an admin or the owner may change an agent's or
 * admin's role and build permission (never the owner's role), and
 * deactivate or reactivate them (never the owner, never themselves). */
function MemberRow({ m, self, canManage }: { m: TeamMember; self: boolean; canManage: boolean }) {
  const qc = useQueryClient();
  const { me } = useAuth();
  const up = useMutation({
    mutationFn: (body: { role?: string; manage_assistants?: boolean }) => patch<Member>("/users/" + m.id, body),
    onSuccess: (u) => {
      void qc.invalidateQueries({ queryKey: ["users"] });
      // Your own role decides what the app offers you.
      if (u.id === me?.user.id) void qc.invalidateQueries({ queryKey: ["me"] });
    },
  });
  const access = useMutation({
    mutationFn: (active: boolean) => patch<TeamMember>("/users/" + m.id, { active }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["users"] });
      // Deactivating revokes the member's API tokens.
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const editable = canManage && m.role !== "owner";
  const deactivated = isDeactivated(m);
  const canToggle = canManage && m.role !== "owner" && !self;
  const label = m.name || m.email;
  return (
    <tr data-testid={"member-" + m.email} className={deactivated ? "muted deactivated" : undefined}>
      <td>
        {m.name || <span className="muted">—</span>}
        {self && <span className="badge">you</span>}
        {deactivated && (
          <span className="badge disabled" title={m.deactivated_at ? "Deactivated " + new Date(m.deactivated_at).toLocaleString() : undefined}>
            Deactivated
          </span>
        )}
      </td>
      <td className="wrap">{m.email}</td>
      <td>
        {editable ? (
          <select
            aria-label={"Role of " + label}
            value={m.role}
            disabled={up.isPending}
            onChange={(e) => {
              const role = e.target.value;
              if (self && role === "agent" && !confirm("Make yourself an agent? You will lose access to the team, channels and webhooks.")) return;
              up.mutate({ role });
            }}
          >
            <option value="agent">agent</option>
            <option value="admin">admin</option>
          </select>
        ) : (
          <span className={"badge role " + m.role}>{m.role}</span>
        )}
        {up.error && <div className="error small">{errorText(up.error)}</div>}
      </td>
      <td>
        {m.role === "agent" ? (
          <label className="check">
            <input
              type="checkbox"
              aria-label={"Builds assistants: " + label}
              checked={m.manage_assistants}
              disabled={!editable || up.isPending}
              onChange={(e) => up.mutate({ manage_assistants: e.target.checked })}
            />
            {m.manage_assistants ? "yes" : "no"}
          </label>
        ) : (
          <span className="muted">always</span>
        )}
      </td>
      <td className="muted">{new Date(m.created_at).toLocaleDateString()}</td>
      {canManage && (
        <td className="right">
          {canToggle &&
            (deactivated ? (
              <button
                className="linkish"
                aria-label={"Reactivate " + label}
                disabled={access.isPending}
                onClick={() => {
                  if (confirm("Reactivate " + label + "? They can sign in again with their password. Their old API tokens stay revoked.")) access.mutate(true);
                }}
              >
                Reactivate
              </button>
            ) : (
              <button
                className="linkish danger"
                aria-label={"Deactivate " + label}
                disabled={access.isPending}
                onClick={() => {
                  if (
                    confirm(
                      "Deactivate " +
                        label +
                        "? They are signed out everywhere at once, their API tokens are revoked, and they cannot sign in until reactivated. Chats assigned to them stay assigned until you reassign them.",
                    )
                  )
                    access.mutate(false);
                }}
              >
                Deactivate
              </button>
            ))}
          {access.error && <div className="error small">{errorText(access.error)}</div>}
        </td>
      )}
    </tr>
  );
}

/** Tokens are the workspace's API tokens. A new one acts as you, with your
 * role at the time of each call; the token is shown once. */
function Tokens({ members }: { members: Member[] }) {
  const qc = useQueryClient();
  const { me } = useAuth();
  const [name, setName] = useState("");
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const q = useQuery({ queryKey: ["tokens"], queryFn: () => get<{ tokens: APIToken[] }>("/tokens") });
  const create = useMutation({
    mutationFn: () => post<CreatedToken>("/tokens", { name }),
    onSuccess: (t) => {
      setName("");
      setCreated(t);
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (t: APIToken) => del("/tokens/" + t.id),
    onSuccess: (_, t) => {
      if (created?.id === t.id) setCreated(null);
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const list = q.data?.tokens || [];
  return (
    <section className="stack tight tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">
        For automation: send a token as <code>Authorization: Bearer …</code>. A token acts as the member who made it, with that member's current role. The
        tokens you create act as you.
      </p>
      <form
        className="row top"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <div className="token-name">
          <Field label="Token name" error={create.error} at="body.name">
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. CRM sync" maxLength={200} />}
          </Field>
        </div>
        <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
          Create token
        </button>
      </form>
      {create.error && restText(create.error, ["body.name"]) && <div className="error">{restText(create.error, ["body.name"])}</div>}
      {created && (
        <div className="card">
          <ShownOnce label={"Token “" + created.name + "”"} value={created.token} />
          <div>
            <button onClick={() => setCreated(null)}>I have copied it</button>
          </div>
        </div>
      )}
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {revoke.error && <div className="error">{errorText(revoke.error)}</div>}
      <table className="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Acts as</th>
            <th>Created</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((t) => (
            <tr key={t.id} data-testid={"token-" + t.name}>
              <td>{t.name}</td>
              <td>
                {memberLabel(
                  members.find((m) => m.id === t.user_id),
                  t.user_id,
                )}
                {t.user_id === me?.user.id && <span className="badge">you</span>}
              </td>
              <td className="muted">{when(t.created_at)}</td>
              <td className="muted">{when(t.last_used_at) || "never"}</td>
              <td className="right">
                <button
                  className="linkish danger"
                  onClick={() => {
                    if (confirm("Revoke the token “" + t.name + "”? Anything using it stops working at once.")) revoke.mutate(t);
                  }}
                  disabled={revoke.isPending}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
          {!q.isLoading && list.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No tokens.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

export function Team() {
  const { me, isAdmin } = useAuth();
  const [adding, setAdding] = useState(false);
  const q = useQuery({ queryKey: ["users"], queryFn: () => get<{ users: TeamMember[] }>("/users?limit=500") });
  const members = q.data?.users || [];
  // Deactivated members last; the server's order (by email) otherwise.
  const sorted = [...members].sort((a, b) => Number(isDeactivated(a)) - Number(isDeactivated(b)));
  return (
    <div className="page">
      <div className="row between">
        <h1>Team</h1>
        {isAdmin && (
          <button className="primary" onClick={() => setAdding(true)}>
            Add a member
          </button>
        )}
      </div>
      <dl className="roles-help card" aria-label="What each role can do">
        {ROLES.map((r) => (
          <div key={r.role}>
            <dt>
              <span className={"badge role " + r.role}>{r.role}</span>
            </dt>
            <dd>{r.can}</dd>
          </div>
        ))}
      </dl>
      {!isAdmin && <p className="muted">Only admins and the owner can add members or change roles.</p>}
      {q.error && <div className="error">{errorText(q.error)}</div>}
      <table className="table members">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th>Builds assistants</th>
            <th>Added</th>
            {isAdmin && <th aria-label="Access" />}
          </tr>
        </thead>
        <tbody>
          {sorted.map((m) => (
            <MemberRow key={m.id} m={m} self={m.id === me?.user.id} canManage={isAdmin} />
          ))}
        </tbody>
      </table>
      {isAdmin && <Tokens members={members} />}
      {adding && <NewMember onClose={() => setAdding(false)} />}
    </div>
  );
}

export default Team;
