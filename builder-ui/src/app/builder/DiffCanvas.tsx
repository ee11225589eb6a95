// DiffCanvas draws what changed between two versions on a read-only
// canvas: the newer version's nodes and edges, plus the older version's
// removed ones, coloured by the server's diff (GET /versions/diff), with
// the builder's own node boxes.
import { useMemo } from "react";
import { Background, Controls, MarkerType, ReactFlow, ReactFlowProvider, type Edge } from "@xyflow/react";
import type { GEdge, GNode, Graph, VersionDiff } from "../types";
import { FlowNode, type DiffMark, type FlowNodeType } from "./FlowNode";
import { edgePort, languagesOf } from "./graph";
import { autoLayout, crowded } from "./layout";

const nodeTypes = { fd: FlowNode };

/** diffMarks gives each node and edge id its mark and changed fields. */
function diffMarks(d: VersionDiff) {
  const nodes = new Map<string, { mark: DiffMark; fields?: string[] }>();
  const edges = new Map<string, { mark: DiffMark; fields?: string[] }>();
  for (const id of d.nodes_added || []) nodes.set(id, { mark: "added" });
  for (const id of d.nodes_removed || []) nodes.set(id, { mark: "removed" });
  for (const id of d.nodes_moved || []) nodes.set(id, { mark: "moved" });
  for (const c of d.nodes_changed || []) nodes.set(c.id, { mark: "changed", fields: c.fields });
  for (const id of d.edges_added || []) edges.set(id, { mark: "added" });
  for (const id of d.edges_removed || []) edges.set(id, { mark: "removed" });
  for (const c of d.edges_changed || []) edges.set(c.id, { mark: "changed", fields: c.fields });
  return { nodes, edges };
}

/** unionGraph is the newer graph with the older one's removed nodes and
 * edges added back, so they can be drawn where they were. */
export function unionGraph(older: Graph | undefined, newer: Graph, d: VersionDiff): Graph {
  const goneNodes = new Set(d.nodes_removed || []);
  const goneEdges = new Set(d.edges_removed || []);
  const nodes: GNode[] = [...newer.nodes, ...(older?.nodes || []).filter((n) => goneNodes.has(n.id))];
  const edges: GEdge[] = [...newer.edges, ...(older?.edges || []).filter((e) => goneEdges.has(e.id))];
  return { ...newer, nodes, edges };
}

function DiffFlow({ older, newer, diff }: { older: Graph | undefined; newer: Graph; diff: VersionDiff }) {
  const { nodes, edges } = useMemo(() => {
    const marks = diffMarks(diff);
    let g = unionGraph(older, newer, diff);
    // A removed node drawn at its old place may sit under a new one, and
    // templates are laid out for smaller boxes: lay such a graph out again.
    if (crowded(g)) g = autoLayout(g, new Map());
    const lang = languagesOf(newer)[0];
    const byID = new Map(g.nodes.map((n) => [n.id, n]));
    const nodes: FlowNodeType[] = g.nodes.map((n, i) => {
      const m = marks.nodes.get(n.id);
      return {
        id: n.id,
        type: "fd" as const,
        position: n.position || { x: (i % 4) * 300, y: Math.floor(i / 4) * 200 },
        data: {
          node: n,
          isStart: (m?.mark === "removed" ? older?.start : newer.start) === n.id,
          lang,
          errors: 0,
          warnings: 0,
          ...(m ? { diff: m.mark, diffFields: m.fields } : {}),
        },
      };
    });
    const edges: Edge[] = g.edges
      .filter((e) => byID.has(e.from) && byID.has(e.to))
      .map((e) => {
        const m = marks.edges.get(e.id);
        const cond = e.condition ? (e.condition.length > 34 ? e.condition.slice(0, 32) + "…" : e.condition) : "";
        const label = m?.mark === "changed" ? "changed: " + (m.fields || []).join(", ") : cond;
        return {
          id: e.id,
          source: e.from,
          sourceHandle: edgePort(g, e) || null,
          target: e.to,
          targetHandle: "in",
          label: label || undefined,
          className: (m ? "diff-" + m.mark : "") + (e.condition ? " conditional" : ""),
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          data: { diff: m?.mark },
        };
      });
    return { nodes, edges };
  }, [older, newer, diff]);
  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      edgesFocusable={false}
      deleteKeyCode={null}
      fitView
      fitViewOptions={{ padding: 0.12 }}
      minZoom={0.1}
      maxZoom={2}
      proOptions={{ hideAttribution: true }}
    >
      <Background gap={20} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

/** DiffCanvas is the canvas with its legend. */
export function DiffCanvas({ older, newer, diff, fromLabel, toLabel }: { older: Graph | undefined; newer: Graph; diff: VersionDiff; fromLabel: string; toLabel: string }) {
  return (
    <div className="diff-canvas-wrap">
      <div className="diff-legend" aria-label="Legend">
        <span className="muted small">
          {toLabel} drawn over {fromLabel}:
        </span>
        <span className="lg added">added</span>
        <span className="lg removed">removed</span>
        <span className="lg changed">changed</span>
        <span className="lg moved">moved</span>
        <span className="lg same">unchanged</span>
      </div>
      <div className="diff-canvas" data-testid="diff-canvas">
        <ReactFlowProvider>
          <DiffFlow older={older} newer={newer} diff={diff} />
        </ReactFlowProvider>
      </div>
    </div>
  );
}
