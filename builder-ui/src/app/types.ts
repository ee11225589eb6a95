// The API's shapes, as the admin app uses them (see /api/v1/openapi.json).
// Graph mirrors engine.Graph (engine/graph.go) and the playbook format.

export type Text = Record<string, string>;

export interface QuickReply {
  value: string;
  label: Text;
}

export interface Field {
  var: string;
  type: "text" | "email" | "phone" | "number" | "choice" | "date" | "url";
  prompt: Text;
  reask?: Text;
  choices?: QuickReply[];
  min?: number;
  max?: number;
  optional?: boolean;
}

export type Kind =
  | "greet"
  | "message"
  | "collect"
  | "faq"
  | "llm_answer"
  | "handover"
  | "offline_capture"
  | "branch"
  | "set_variable"
  | "http_call"
  | "end";

export interface GNode {
  id: string;
  kind: Kind;
  label?: string;
  position?: { x: number; y: number };
  greet?: { text: Text; offline_text?: Text; quick_replies?: QuickReply[]; await_reply?: boolean; save_as?: string };
  message?: { text: Text; quick_replies?: QuickReply[]; await_reply?: boolean; save_as?: string; delay_ms?: number };
  collect?: { fields: Field[]; retries?: number };
  faq?: { prompt?: Text; no_match?: Text };
  llm_answer?: { prompt?: Text; no_match?: Text };
  handover?: { wait_seconds?: number; online_text: Text; offline_text: Text; joined_text?: Text };
  offline_capture?: { create?: "lead" | "deal"; intro?: Text; fields: Field[]; confirm: Text; retries?: number };
  branch?: Record<string, never>;
  set_variable?: { assignments: { var: string; value: string }[] };
  http_call?: Record<string, unknown>;
  end?: { text?: Text };
}

export interface GEdge {
  id: string;
  from: string;
  port?: string;
  to: string;
  condition?: string;
}

export interface Rule {
  id: string;
  label?: string;
  condition: string;
  to: string;
  disabled?: boolean;
}

export interface Graph {
  default_language?: string;
  languages?: string[];
  start: string;
  variables?: { name: string; type: "string" | "number" | "bool" }[];
  nodes: GNode[];
  edges: GEdge[];
  global_rules?: Rule[];
  loop_breaker?: { threshold?: number; to: string };
}

export interface Assistant {
  id: string;
  name: string;
  status: "draft" | "active";
  channels: { id: string; name: string }[] | null;
  default_language: string;
  languages: string[] | null;
  latest_version: number;
  created_at: string;
  updated_at: string;
}

export interface Draft {
  graph: Graph;
  revision: number;
  updated_at: string;
  diagnostics: import("./api").Diagnostic[] | null;
}

export interface Version {
  id: string;
  number: number;
  published_at: string;
  published_by: string;
}

export interface Channel {
  id: string;
  name: string;
  kind: "web";
  public_key: string;
  allowed_origins: string[] | null;
  assistant?: { id: string; name: string } | null;
  embed_snippet: string;
  default_response?: { greeting?: Text; then?: "capture" | "queue" };
  created_at: string;
}

export interface Me {
  csrf_token: string;
  expires_at: string;
  user: { id: string; email: string; name: string; role: "owner" | "admin" | "agent"; manage_assistants: boolean };
  workspace: { id: string; name: string };
}

export type ConvStatus = "bot" | "unassigned" | "assigned" | "closed";

export interface InboxConversation {
  id: string;
  status: ConvStatus;
  assignee_id?: string;
  assistant_id?: string;
  channel_id: string;
  language: string;
  last_seq: number;
  visitor_id: string;
  created_at: string;
  updated_at: string;
  closed_at?: string;
}

export interface FolderCounts {
  unassigned: number;
  mine: number;
  bot: number;
  all: number;
  closed: number;
}

export interface ConvMessage {
  id: string;
  seq: number;
  author: "visitor" | "bot" | "agent" | "system";
  author_id?: string;
  body: string;
  created_at: string;
  payload?: { author_name?: string; quick_replies?: { label: string; value: string }[] } | null;
}

export interface Member {
  id: string;
  email: string;
  name: string;
  role: "owner" | "admin" | "agent";
  manage_assistants: boolean;
  created_at: string;
}
