import { memo } from "react";
import { Handle, Position, type NodeProps, type Node } from "@xyflow/react";
import type { GNode } from "../types";
import { kindInfo, mainText, ports, quickReplies } from "./graph";

export type FlowNodeData = {
  node: GNode;
  isStart: boolean;
  lang: string;
  errors: number;
  warnings: number;
  visits?: number;
  dropOff?: number | null;
  /** preview: "path" when the preview went through, "current" for its latest node */
  preview?: "path" | "current";
  /** diff: how the node differs from the older version (the versions page) */
  diff?: DiffMark;
  /** diffFields: the fields that changed, for a changed node */
  diffFields?: string[];
};

/** DiffMark is how a node or edge differs between two versions. */
export type DiffMark = "added" | "removed" | "changed" | "moved";
export type FlowNodeType = Node<FlowNodeData, "fd">;

/** FlowNode draws one node: its kind, text, and one handle per port. */
export const FlowNode = memo(function FlowNode({ data, selected }: NodeProps<FlowNodeType>) {
  const n = data.node;
  const info = kindInfo[n.kind];
  const qr = quickReplies(n, data.lang);
  const text = mainText(n, data.lang);
  const fields = data.diffFields || [];
  return (
    <div
      className={
        "fnode" +
        (selected ? " selected" : "") +
        (data.errors ? " has-errors" : "") +
        (data.preview === "current" ? " in-path current" : data.preview === "path" ? " in-path" : "") +
        (data.diff ? " diff-" + data.diff : "")
      }
      style={{ borderTopColor: info.color }}
      data-testid={"node-" + n.id}
      data-kind={n.kind}
      data-preview={data.preview}
      data-diff={data.diff}
      title={data.diff === "changed" ? "Changed: " + fields.join(", ") : undefined}
    >
      {data.diff && (
        <div className={"diff-badge " + data.diff} data-testid={"diff-badge-" + n.id}>
          {data.diff}
          {data.diff === "changed" && fields.length > 0 && <span className="diff-fields">: {fields.filter((f) => f !== "position").join(", ")}</span>}
        </div>
      )}
      <Handle type="target" position={Position.Left} id="in" className="h-in" />
      <div className="fnode-head">
        <span className="kind" style={{ color: info.color }}>
          {info.label}
        </span>
        {data.isStart && <span className="start">start</span>}
        {data.errors > 0 && (
          <span className="nerr" title={data.errors + " error(s)"}>
            {data.errors}
          </span>
        )}
        {data.errors === 0 && data.warnings > 0 && (
          <span className="nwarn" title={data.warnings + " warning(s)"}>
            {data.warnings}
          </span>
        )}
      </div>
      <div className="fnode-id">{n.label || n.id}</div>
      {text && <div className="fnode-text">{text}</div>}
      {qr.length > 0 && (
        <div className="fnode-qr">
          {qr.slice(0, 4).map((q, i) => (
            <span key={i}>{q}</span>
          ))}
          {qr.length > 4 && <span>+{qr.length - 4}</span>}
        </div>
      )}
      {data.visits !== undefined && (
        <div className="fnode-stats">
          {data.visits} visits
          {data.dropOff != null && <> · {Math.round(data.dropOff * 100)}% drop-off</>}
        </div>
      )}
      <div className="fnode-ports">
        {ports(n.kind).map((p) => (
          <div className="port" key={p} data-port={p}>
            <span>{p.replace("_", " ")}</span>
            <Handle type="source" position={Position.Right} id={p} className="h-out" data-testid={"handle-" + n.id + "-" + p} />
          </div>
        ))}
      </div>
    </div>
  );
});
