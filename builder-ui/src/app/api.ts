// The API client: JSON over fetch with the session cookie, the CSRF token
// on unsafe methods, and RFC 9457 problems turned into ApiError.

export interface Diagnostic {
  severity: "error" | "warning";
  code: string;
  message: string;
  node?: string;
  edge?: string;
  rule?: string;
  field?: string;
  line?: number;
  column?: number;
  offset?: number;
  end?: number;
}

export interface FieldError {
  location?: string;
  message?: string;
  value?: unknown;
}

export class ApiError extends Error {
  status: number;
  code: string;
  errors: FieldError[];
  diagnostics: Diagnostic[];
  current?: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown> | null) {
    const detail = (body && (body.detail as string)) || (body && (body.title as string)) || "request failed (" + status + ")";
    super(detail);
    this.status = status;
    this.code = (body && (body.code as string)) || "";
    this.errors = ((body && body.errors) as FieldError[]) || [];
    this.diagnostics = ((body && body.diagnostics) as Diagnostic[]) || [];
    this.current = (body && (body.current as Record<string, unknown>)) || undefined;
  }
  /** describe joins the detail with each field error. */
  describe(): string {
    const fields = this.errors.map((e) => (e.location ? e.location + ": " : "") + (e.message || "")).filter(Boolean);
    return [this.message, ...fields].join(" · ");
  }
}

let csrf = "";
let onUnauthorized: (() => void) | null = null;

export function setCSRF(token: string) {
  csrf = token;
}
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, init?: RequestInit): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/api/v1" + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
    ...init,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && onUnauthorized && !path.startsWith("/auth/")) onUnauthorized();
    throw new ApiError(res.status, data as Record<string, unknown>);
  }
  return data as T;
}

export const get = <T,>(p: string) => api<T>("GET", p);
export const post = <T,>(p: string, b?: unknown) => api<T>("POST", p, b ?? {});
export const put = <T,>(p: string, b: unknown) => api<T>("PUT", p, b);
export const patch = <T,>(p: string, b: unknown) => api<T>("PATCH", p, b);
export const del = <T,>(p: string) => api<T>("DELETE", p);

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}

/** clientID makes an idempotency id for a message. */
export function clientID(): string {
  return "a-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
}

/** apiText sends raw (a file's text, as JSON) and returns the answer's text
 * as it came, for downloads and uploads of files. Problems throw ApiError. */
export async function apiText(method: string, path: string, raw?: string): Promise<string> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (raw !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/api/v1" + path, { method, headers, credentials: "same-origin", body: raw });
  const text = await res.text();
  if (!res.ok) {
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.status === 401 && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, data as Record<string, unknown>);
  }
  return text;
}

/** fieldMessages returns the messages of e's field errors at location
 * ("body.url") or inside it ("body.events[1]" for "body.events"), so a form
 * can show them next to the field they name. With exact, only the errors
 * at location itself (a list's own error, when its items have fields of
 * their own). */
export function fieldMessages(e: unknown, location: string, exact = false): string[] {
  if (!(e instanceof ApiError)) return [];
  return e.errors
    .filter((f) => f.location === location || (!exact && (f.location?.startsWith(location + "[") || f.location?.startsWith(location + "."))))
    .map((f) => f.message || "invalid");
}

/** restText is errorText without the field errors a form shows next to
 * their fields (placed: their locations, as for fieldMessages): the
 * problem's detail and any field error no field shows, or "" when the
 * fields show every error (the detail would only repeat them). */
export function restText(e: unknown, placed: string[]): string {
  if (!(e instanceof ApiError)) return errorText(e);
  const isPlaced = (loc?: string) => !!loc && placed.some((p) => loc === p || loc.startsWith(p + "[") || loc.startsWith(p + "."));
  const rest = e.errors.filter((f) => !isPlaced(f.location)).map((f) => (f.location ? f.location + ": " : "") + (f.message || ""));
  if (e.errors.length > 0 && rest.length === 0) return "";
  return [e.message, ...rest.filter(Boolean)].join(" · ");
}
