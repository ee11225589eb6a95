// The signed-in member's own account: who they are, and changing their
// password (POST /auth/password, api/auth_routes.go).
//
// A password change ends every session of the member, this one included,
// and answers this browser with a new one: the response sets the new
// fd_session cookie and carries the new CSRF token, which replace the old
// ones here, so the member stays signed in. Other browsers and devices are
// signed out. The agent socket, opened with the old session, is restarted
// on the new one (the server would close it with 4001 within a minute).
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { ApiError, post, restText, setCSRF } from "../api";
import { useAuth } from "../auth";
import { Field } from "../forms";
import { useLive } from "../inbox/live";
import type { Me } from "../types";

/** MIN_PASSWORD is the server's minimum (auth.CheckPassword), said in the
 * hint; the server decides. */
const MIN_PASSWORD = 10;

/** recheckSession asks /auth/me again if a request that raced the change
 * (sent with the old cookie, answered after it was revoked) signed the app
 * out: the browser holds the new cookie, so the app signs back in. */
function recheckSession(qc: QueryClient) {
  window.setTimeout(() => {
    if (qc.getQueryData(["me"]) === null) void qc.invalidateQueries({ queryKey: ["me"] });
  }, 1500);
}

function ChangePassword() {
  const qc = useQueryClient();
  const { me } = useAuth();
  const { socket } = useLive();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const m = useMutation({
    mutationFn: () => post<Me>("/auth/password", { current_password: current, new_password: next }),
    onSuccess: (fresh) => {
      setCSRF(fresh.csrf_token);
      qc.setQueryData(["me"], fresh);
      socket.stop();
      socket.start();
      recheckSession(qc);
      setCurrent("");
      setNext("");
      setConfirm("");
      setDone(true);
    },
    onError: (e) => {
      // The session itself ended (revoked elsewhere, or the member was
      // deactivated): sign in again.
      if (e instanceof ApiError && e.status === 401) qc.setQueryData(["me"], null);
    },
  });
  const placed = ["body.current_password", "body.new_password"];
  function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (next !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    m.mutate();
  }
  const rest = m.error ? restText(m.error, placed) : "";
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      <p className="muted">Every other browser and device you are signed in on is signed out. This one stays signed in.</p>
      <form className="stack" onSubmit={submit} noValidate>
        {/* The username field lets password managers file the new password under the right account. */}
        <input type="email" name="username" autoComplete="username" value={me?.user.email || ""} readOnly hidden />
        <Field label="Current password" error={m.error} at="body.current_password">
          {(p) => <input {...p} type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" />}
        </Field>
        <Field label="New password" hint={`At least ${MIN_PASSWORD} characters, not your email.`} error={m.error} at="body.new_password">
          {(p) => <input {...p} type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" />}
        </Field>
        <Field label="Confirm new password" error={null} at="confirm" also={mismatch ? "The two new passwords differ." : undefined}>
          {(p) => (
            <input
              {...p}
              type="password"
              value={confirm}
              onChange={(e) => {
                setConfirm(e.target.value);
                if (mismatch && e.target.value === next) setMismatch(false);
              }}
              autoComplete="new-password"
            />
          )}
        </Field>
        {rest && (
          <div className="error" role="alert">
            {rest}
          </div>
        )}
        {done && (
          <div className="ok" role="status">
            Password changed. Your other sessions were signed out.
          </div>
        )}
        <div className="row end">
          <button className="primary" type="submit" disabled={m.isPending || !current || !next || !confirm}>
            {m.isPending ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </section>
  );
}

export function Account() {
  const { me } = useAuth();
  return (
    <div className="page narrow stack">
      <h1>Account</h1>
      <dl className="roles-help card" aria-label="Your account">
        <div>
          <dt className="muted small">Name</dt>
          <dd>{me?.user.name || <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt className="muted small">Email</dt>
          <dd>{me?.user.email}</dd>
        </div>
        <div>
          <dt className="muted small">Role</dt>
          <dd>
            <span className={"badge role " + (me?.user.role || "")}>{me?.user.role}</span> in {me?.workspace.name}
          </dd>
        </div>
      </dl>
      <ChangePassword />
    </div>
  );
}

export default Account;
