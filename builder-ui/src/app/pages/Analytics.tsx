// Analytics of one assistant over a period: the figures, a chart per day
// or week (recharts), the per-node visits and drop-offs, and a "not enough
// data" state below the server's minimum of conversations.
import { useState } from "react";
import { useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { errorText, get } from "../api";

interface Share {
  count: number;
  of: number;
  rate: number | null;
}
interface Report {
  conversations: number;
  not_enough_data: boolean;
  message?: string;
  min_conversations: number;
  from: string;
  to: string;
  engaged: Share;
  resolved_by_bot: Share;
  handed_over: Share;
  claimed_in_time: Share;
  responded: Share;
  median_time_to_claim_seconds: number | null;
  median_first_response_seconds: number | null;
  offline_captures: number;
  leads: number;
  deals: number;
  deal_value: { currency: string; total: string; count: number; average: string }[] | null;
  converted_within_hour: Share;
  new_visitors: Share;
  series: { granularity: "day" | "week"; points: { start: string; conversations: number; engaged: number; handed_over: number; leads: number; deals: number }[] | null };
}
interface NodeReport {
  not_enough_data: boolean;
  nodes: { node_id: string; visits: number; drop_offs: number; drop_off_rate: number | null }[] | null;
}

const pct = (s: Share) => (s.rate == null ? "—" : Math.round(s.rate * 100) + "%");
const secs = (v: number | null) => (v == null ? "—" : v < 90 ? Math.round(v) + " s" : Math.round(v / 60) + " min");
const day = (d: Date) => d.toISOString().slice(0, 10);

export default function Analytics() {
  const { id } = useParams();
  const [days, setDays] = useState(30);
  const to = new Date(Date.now() + 86400_000);
  const from = new Date(to.getTime() - days * 86400_000);
  const range = `from=${day(from)}&to=${day(to)}`;
  const q = useQuery({ queryKey: ["analytics", id, days], queryFn: () => get<Report>(`/assistants/${id}/analytics?${range}`) });
  const nq = useQuery({ queryKey: ["analytics-nodes", id, days], queryFn: () => get<NodeReport>(`/assistants/${id}/analytics/nodes?${range}`) });
  const r = q.data;
  return (
    <div className="page analytics" data-testid="analytics">
      <div className="row between">
        <h2>Analytics</h2>
        <label className="row">
          Period
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
            <option value={365}>Last year</option>
          </select>
        </label>
      </div>
      {q.error && <div className="error">{errorText(q.error)}</div>}
      {q.isLoading && <div className="muted">Loading…</div>}
      {r && r.not_enough_data && (
        <div className="banner" data-testid="not-enough-data">
          <strong>Not enough data yet.</strong> {r.message || ""} The dashboard needs at least {r.min_conversations} conversations in the period; there {r.conversations === 1 ? "is" : "are"} {r.conversations}.
        </div>
      )}
      {r && (
        <>
          <div className={"kpis" + (r.not_enough_data ? " faded" : "")}>
            <Kpi label="Conversations" value={String(r.conversations)} />
            <Kpi label="Engaged" value={pct(r.engaged)} sub={r.engaged.count + " of " + r.engaged.of} />
            <Kpi label="Resolved by the bot" value={pct(r.resolved_by_bot)} sub={String(r.resolved_by_bot.count)} />
            <Kpi label="Handed over" value={pct(r.handed_over)} sub={String(r.handed_over.count)} />
            <Kpi label="Claimed in time" value={pct(r.claimed_in_time)} sub={r.claimed_in_time.count + " of " + r.claimed_in_time.of} />
            <Kpi label="Median time to claim" value={secs(r.median_time_to_claim_seconds)} />
            <Kpi label="Offline captures" value={String(r.offline_captures)} />
            <Kpi label="Leads / deals" value={r.leads + " / " + r.deals} />
            <Kpi label="Converted within 1 h" value={pct(r.converted_within_hour)} />
            <Kpi label="New visitors" value={pct(r.new_visitors)} />
            {(r.deal_value || []).map((v) => (
              <Kpi key={v.currency} label={"Deal value (" + v.currency + ")"} value={v.total} sub={v.count + " deals, avg " + v.average} />
            ))}
          </div>
          <section className="card chart">
            <h3>Conversations per {r.series.granularity}</h3>
            <ResponsiveContainer width="100%" height={260}>
              <AreaChart data={(r.series.points || []).map((p) => ({ ...p, label: p.start.slice(5, 10) }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Area type="monotone" dataKey="conversations" stroke="#2f5bea" fill="#2f5bea33" name="Conversations" />
                <Area type="monotone" dataKey="engaged" stroke="#0d9488" fill="#0d948833" name="Engaged" />
                <Area type="monotone" dataKey="handed_over" stroke="#ea580c" fill="#ea580c33" name="Handed over" />
              </AreaChart>
            </ResponsiveContainer>
          </section>
        </>
      )}
      {nq.data && (nq.data.nodes || []).length > 0 && (
        <section className="card chart">
          <h3>Visits and drop-offs per node</h3>
          <ResponsiveContainer width="100%" height={Math.max(160, (nq.data.nodes || []).length * 28)}>
            <BarChart layout="vertical" data={nq.data.nodes || []} margin={{ left: 40 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis type="number" allowDecimals={false} />
              <YAxis type="category" dataKey="node_id" width={120} />
              <Tooltip />
              <Legend />
              <Bar dataKey="visits" fill="#2f5bea" name="Visits" />
              <Bar dataKey="drop_offs" fill="#e5484d" name="Drop-offs" />
            </BarChart>
          </ResponsiveContainer>
        </section>
      )}
    </div>
  );
}

function Kpi({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div className="kpi">
      <div className="muted small">{label}</div>
      <div className="kpi-value">{value}</div>
      {sub && <div className="muted small">{sub}</div>}
    </div>
  );
}
