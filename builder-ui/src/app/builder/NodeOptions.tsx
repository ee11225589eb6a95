import type { GNode } from "../types";

/** NodeOptions lists nodes as the options of a select whose value is a
 * node id: the target of an edge, a route, a rule, the start node. */
export function NodeOptions({ nodes }: { nodes: GNode[] }) {
  return (
    <>
      {nodes.map((n) => (
        <option key={n.id} value={n.id}>
          {n.id}
        </option>
      ))}
    </>
  );
}

/** loopBreakerTargets are the nodes a loop breaker may send a chat to:
 * the ones that bring a human in or take contact details. */
export function loopBreakerTargets(nodes: GNode[]): GNode[] {
  return nodes.filter((n) => n.kind === "handover" || n.kind === "offline_capture");
}
