// The agent inbox: folders with counts, the conversations of a folder, a
// chat view with history, live events and typing, the actions (claim,
// take over, hand back, release, close) and the side panel.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { NavLink, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, clientID, errorText, get, post } from "../api";
import { useAuth } from "../auth";
import type { ConvMessage, FolderCounts, InboxConversation, Member } from "../types";
import { useLive } from "./live";
import { Rich } from "./Rich";
import { SidePanel } from "./SidePanel";
import { NotificationSettings } from "./NotificationSettings";

const folders = [
  { id: "unassigned", label: "Unassigned" },
  { id: "mine", label: "Mine" },
  { id: "bot", label: "Bot" },
  { id: "all", label: "All" },
  { id: "closed", label: "Closed" },
] as const;

interface Detail {
  conversation: InboxConversation & { version_id?: string };
  messages: ConvMessage[] | null;
  next_after_seq?: number;
}

export default function Inbox() {
  const { folder = "unassigned", conv } = useParams();
  const { live } = useLive();
  const counts = useQuery({ queryKey: ["inbox-counts"], queryFn: () => get<FolderCounts>("/inbox/counts"), refetchInterval: live ? false : 4000 });
  const list = useQuery({
    queryKey: ["inbox", folder],
    queryFn: () => get<{ conversations: InboxConversation[] | null }>("/inbox?folder=" + folder + "&limit=100"),
    refetchInterval: live ? false : 4000,
  });
  const nav = useNavigate();
  const convs = list.data?.conversations || [];
  return (
    <div className="inbox">
      <nav className="folders" aria-label="Folders">
        <h2>Inbox</h2>
        {folders.map((f) => (
          <NavLink key={f.id} to={"/inbox/" + f.id} className={f.id === folder ? "active" : undefined} data-testid={"folder-" + f.id}>
            {f.label}
            <span className="count">{counts.data ? counts.data[f.id] : ""}</span>
          </NavLink>
        ))}
        <div className={"live " + (live ? "on" : "off")} title={live ? "Live updates from the agent socket" : "The agent socket is not connected: refreshing every few seconds"}>
          {live ? "● live" : "○ polling"}
        </div>
        <NotificationSettings />
      </nav>
      <div className="convs" data-testid="conversation-list">
        {list.error && <div className="error pad">{errorText(list.error)}</div>}
        {convs.length === 0 && !list.isLoading && <div className="muted pad">No conversations here.</div>}
        {convs.map((c) => (
          <button key={c.id} className={"conv" + (c.id === conv ? " on" : "")} onClick={() => nav("/inbox/" + folder + "/" + c.id)} data-testid={"conv-" + c.id}>
            <div className="row between">
              <strong>Visitor {c.visitor_id.replace(/^vis_/, "").slice(0, 6)}</strong>
              <span className={"badge " + c.status}>{c.status}</span>
            </div>
            <div className="muted small">
              {c.language} · {new Date(c.updated_at).toLocaleTimeString()}
            </div>
          </button>
        ))}
      </div>
      {conv ? <Conversation key={conv} id={conv} /> : <div className="chat empty muted">Pick a conversation.</div>}
    </div>
  );
}

function Conversation({ id }: { id: string }) {
  const qc = useQueryClient();
  const { me } = useAuth();
  const { socket, live } = useLive();
  const [typing, setTyping] = useState(false);
  const q = useQuery({
    queryKey: ["conversation", id],
    queryFn: () => get<Detail>("/conversations/" + id + "?limit=200"),
    refetchInterval: live ? false : 3000,
  });
  // Watch the conversation on the socket: its events are appended by seq.
  useEffect(() => {
    socket.watch(id);
    let timer: number | undefined;
    const off = socket.on((f) => {
      if (f.conversation_id !== id) return;
      if (f.type === "event" && f.message && typeof f.seq === "number") {
        const m = f.message;
        qc.setQueryData<Detail>(["conversation", id], (old) => {
          if (!old) return old;
          const msgs = old.messages || [];
          if (msgs.some((x) => x.seq >= f.seq!)) return old;
          const next: ConvMessage = { id: m.id, seq: f.seq!, author: m.author, body: m.text, created_at: m.created_at, payload: { author_name: m.author_name, quick_replies: m.quick_replies } };
          return { ...old, messages: [...msgs, next], conversation: { ...old.conversation, last_seq: f.seq! } };
        });
        if (m.author === "visitor") setTyping(false);
      } else if (f.type === "typing" && f.author === "visitor") {
        setTyping(!!f.on);
        window.clearTimeout(timer);
        if (f.on) timer = window.setTimeout(() => setTyping(false), 10_000);
      } else if (f.type === "watched" || f.type === "resync") {
        void qc.invalidateQueries({ queryKey: ["conversation", id] });
      }
    });
    return () => {
      off();
      socket.unwatch(id);
      window.clearTimeout(timer);
    };
  }, [id, socket, qc]);
  // The status changes with inbox events: refresh the conversation then.
  useEffect(
    () =>
      socket.on((f) => {
        if (f.type === "inbox" && f.conversation_id === id) void qc.invalidateQueries({ queryKey: ["conversation", id] });
      }),
    [id, socket, qc],
  );

  const listRef = useRef<HTMLDivElement>(null);
  const msgs = q.data?.messages || [];
  useEffect(() => {
    listRef.current?.scrollTo({ top: listRef.current.scrollHeight });
  }, [msgs.length, typing]);

  const nav = useNavigate();
  const act = useMutation({
    mutationFn: ({ action, body }: { action: string; body?: unknown }) => post<InboxConversation>(`/conversations/${id}/${action}`, body),
    onSuccess: (c, v) => {
      // A claimed or taken-over chat is in Mine now: follow it there.
      if ((v.action === "claim" || v.action === "takeover" || v.action === "reassign") && c.status === "assigned" && c.assignee_id === me?.user.id) nav("/inbox/mine/" + id, { replace: true });
      void qc.invalidateQueries({ queryKey: ["conversation", id] });
      void qc.invalidateQueries({ queryKey: ["inbox"] });
      void qc.invalidateQueries({ queryKey: ["inbox-counts"] });
    },
  });
  const [handbackNode, setHandbackNode] = useState("");
  // The workspace's members, for the reassign dropdown.
  const members = useQuery({
    queryKey: ["users"],
    queryFn: () => get<{ users: Member[] }>("/users"),
    staleTime: 60_000,
  });

  if (q.error) return <div className="chat error pad">{q.error instanceof ApiError && q.error.status === 404 ? "This conversation is not yours to see (any more)." : errorText(q.error)}</div>;
  if (!q.data) return <div className="chat muted pad">Loading…</div>;
  const c = q.data.conversation;
  const mine = c.status === "assigned" && c.assignee_id === me?.user.id;
  const isAdmin = me?.user.role === "owner" || me?.user.role === "admin";
  const canReassign = (c.status === "unassigned" || c.status === "assigned") && (c.status === "unassigned" || mine || isAdmin);
  return (
    <>
      <section className="chat" data-testid="chat">
        <header className="chat-head">
          <div>
            <strong>Visitor {c.visitor_id.replace(/^vis_/, "").slice(0, 6)}</strong>{" "}
            <span className={"badge " + c.status} data-testid="conv-status">
              {c.status}
            </span>
            <div className="muted small">
              {c.id} · {c.language}
              {c.closed_at && " · closed " + new Date(c.closed_at).toLocaleString()}
            </div>
          </div>
          <div className="row">
            {c.status === "unassigned" && (
              <button className="primary" onClick={() => act.mutate({ action: "claim" })} disabled={act.isPending}>
                Claim
              </button>
            )}
            {c.status === "bot" && (
              <button className="primary" onClick={() => act.mutate({ action: "takeover" })} disabled={act.isPending}>
                Take over
              </button>
            )}
            {mine && (
              <>
                <input className="short" placeholder="node (optional)" value={handbackNode} onChange={(e) => setHandbackNode(e.target.value)} aria-label="Hand back at node" />
                <button onClick={() => act.mutate({ action: "handback", body: handbackNode ? { node: handbackNode } : {} })} disabled={act.isPending}>
                  Hand back to the bot
                </button>
                <button onClick={() => act.mutate({ action: "reassign", body: { assignee_id: null } })} disabled={act.isPending} title="Back to the Unassigned queue">
                  Release
                </button>
              </>
            )}
            {canReassign && (
              <select
                aria-label="Assign to"
                title="Give the chat to a member, or back to the queue"
                value={c.assignee_id || ""}
                disabled={act.isPending || !members.data}
                onChange={(e) => act.mutate({ action: "reassign", body: { assignee_id: e.target.value || null } })}
                data-testid="reassign"
              >
                <option value="">Unassigned (queue)</option>
                {(members.data?.users || []).filter((u) => u.active !== false || u.id === c.assignee_id).map((u) => (
                  <option key={u.id} value={u.id}>
                    {(u.name || u.email) + (u.id === me?.user.id ? " (me)" : "")}
                  </option>
                ))}
              </select>
            )}
            {c.status !== "closed" && (mine || c.status !== "assigned") && (
              <button
                className="danger"
                onClick={() => {
                  if (confirm("Close this chat for good?")) act.mutate({ action: "close" });
                }}
                disabled={act.isPending}
              >
                Close
              </button>
            )}
          </div>
        </header>
        {act.error && <div className="error pad">{errorText(act.error)}</div>}
        <div className="messages" ref={listRef} data-testid="messages">
          {msgs.map((m) => (
            <div key={m.seq} className={"m " + m.author} data-seq={m.seq}>
              {m.author !== "visitor" && m.author !== "system" && <div className="who small muted">{m.payload?.author_name || m.author}</div>}
              <div className="bubble">{m.author === "bot" || m.author === "agent" ? <Rich text={m.body} /> : m.body}</div>
              {m.payload?.quick_replies && m.payload.quick_replies.length > 0 && (
                <div className="qr small muted">{m.payload.quick_replies.map((r) => "[" + r.label + "]").join(" ")}</div>
              )}
              <div className="time small muted">{new Date(m.created_at).toLocaleTimeString()}</div>
            </div>
          ))}
          {typing && <div className="typing muted small">The visitor is typing…</div>}
        </div>
        {mine ? <Composer id={id} /> : c.status !== "closed" && <div className="muted pad small">Claim or take over the chat to write.</div>}
      </section>
      <SidePanel id={id} />
    </>
  );
}

function Composer({ id }: { id: string }) {
  const qc = useQueryClient();
  const { socket } = useLive();
  const [text, setText] = useState("");
  const typingOn = useRef(false);
  const send = useMutation({
    mutationFn: (t: string) => post<{ seq: number }>(`/conversations/${id}/messages`, { client_id: clientID(), text: t }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["conversation", id] }),
  });
  function typing(on: boolean) {
    if (typingOn.current === on) return;
    typingOn.current = on;
    if (!socket.send({ type: "typing", conversation_id: id, on })) {
      void post(`/conversations/${id}/typing`, { on }).catch(() => {});
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    setText("");
    typing(false);
    send.mutate(t);
  }
  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        rows={2}
        placeholder="Write to the visitor… (Enter to send)"
        value={text}
        aria-label="Message"
        onChange={(e) => {
          setText(e.target.value);
          typing(e.target.value.length > 0);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            (e.currentTarget.form as HTMLFormElement).requestSubmit();
          }
        }}
      />
      <button className="primary" type="submit" disabled={send.isPending}>
        Send
      </button>
      {send.error && <div className="error">{errorText(send.error)}</div>}
    </form>
  );
}
