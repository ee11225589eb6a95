import dagre from "@dagrejs/dagre";
import type { Graph } from "../types";

/** autoLayout places the nodes left to right with dagre. */
export function autoLayout(g: Graph, sizes: Map<string, { width: number; height: number }>): Graph {
  const d = new dagre.graphlib.Graph();
  d.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 90, marginx: 20, marginy: 20 });
  d.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    const s = sizes.get(n.id) || { width: 240, height: 120 };
    d.setNode(n.id, { width: s.width, height: s.height });
  }
  for (const e of g.edges) {
    if (d.hasNode(e.from) && d.hasNode(e.to)) d.setEdge(e.from, e.to);
  }
  dagre.layout(d);
  return {
    ...g,
    nodes: g.nodes.map((n) => {
      const p = d.node(n.id);
      const s = sizes.get(n.id) || { width: 240, height: 120 };
      return p ? { ...n, position: { x: Math.round(p.x - s.width / 2), y: Math.round(p.y - s.height / 2) } } : n;
    }),
  };
}

/** NodeW and NodeH are a node's size on the canvas before it is measured. */
export const NodeW = 230;
export const NodeH = 130;

/** crowded reports whether nodes lack a position or overlap at canvas size:
 * templates and imported files are laid out for smaller boxes. */
export function crowded(g: Graph): boolean {
  const ps = g.nodes.map((n) => n.position);
  if (ps.some((p) => !p)) return true;
  for (let i = 0; i < ps.length; i++) {
    for (let j = i + 1; j < ps.length; j++) {
      const a = ps[i]!;
      const b = ps[j]!;
      if (Math.abs(a.x - b.x) < NodeW && Math.abs(a.y - b.y) < NodeH) return true;
    }
  }
  return false;
}
