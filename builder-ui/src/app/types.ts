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
  /** Whether signed identities are verified (an identity secret exists). */
  identity_verification?: boolean;
  identity_secret_set_at?: string | null;
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
  /** false once an admin deactivated the member (PATCH /users/{id}). */
  active?: boolean;
  deactivated_at?: string | null;
}

/** A webhook subscription (GET /webhooks). The signing secret is never in
 * it: create and rotate answer a WebhookWithSecret, once. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  previous_secret_expires_at?: string;
  created_at: string;
  updated_at: string;
}

export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  event_id: string;
  event_type: string;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  next_attempt_at?: string;
  last_attempt_at?: string;
  last_status?: number;
  last_error?: string;
  created_at: string;
  delivered_at?: string;
}

/** An API token as listed; the token itself is only in CreatedToken. */
export interface APIToken {
  id: string;
  name: string;
  user_id: string;
  created_at: string;
  last_used_at?: string;
}

export interface CreatedToken extends APIToken {
  token: string;
}

/** VarType is a variable's type as conditions see it (engine.VarType). */
export type VarType = "string" | "number" | "bool";

/** Assignment is one step of a set_variable node (engine.Assignment). */
export interface Assignment {
  var: string;
  value: string;
}

/** ResponseMapping copies a value of an http_call's JSON response into a
 * variable (engine.ResponseMapping); path is dotted: data.items.0.name. */
export interface ResponseMapping {
  var: string;
  path: string;
  type?: VarType;
}

/** HTTPCallConfig is an http_call node's settings (engine.HTTPCallConfig). */
export interface HTTPCallConfig {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeout_ms?: number;
  map?: ResponseMapping[];
}

/** AssistantSettings mirrors chat.AssistantSettings (GET/PUT /settings). */
export interface AssistantSettings {
  availability: {
    mode: "always" | "when_offline" | "schedule";
    time_zone?: string;
    schedule?: { day: Weekday; start: string; end: string }[] | null;
  };
  audience?: "everyone" | "new_only";
  follow_up: { enabled: boolean; after_seconds?: number; text?: Text | null };
}

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** VersionDiff is engine.GraphDiff: every list is present, possibly empty. */
export interface VersionDiff {
  nodes_added: string[] | null;
  nodes_removed: string[] | null;
  nodes_changed: { id: string; fields: string[] }[] | null;
  nodes_moved: string[] | null;
  edges_added: string[] | null;
  edges_removed: string[] | null;
  edges_changed: { id: string; fields: string[] }[] | null;
  rules_added: string[] | null;
  rules_removed: string[] | null;
  rules_changed: { id: string; fields: string[] }[] | null;
  graph_changed: string[] | null;
}
