// The builder: a canvas of the draft graph (React Flow), a palette of node
// kinds, the inspector, live checks, undo/redo, autosave with conflicts,
// auto-layout, and publishing.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { useParams } from "react-router";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import { useQuery } from "@tanstack/react-query";
import { get, type Diagnostic } from "../api";
import type { Kind } from "../types";
import { useAssistant } from "../pages/AssistantLayout";
import { FlowNode, type FlowNodeType } from "./FlowNode";
import { Inspector, type Selection } from "./Inspector";
import { ChecksPanel } from "./ChecksPanel";
import { PublishDialog } from "./PublishDialog";
import { PreviewPane } from "./PreviewPane";
import { FileButtons } from "./FileButtons";
import { useDraft, type SaveState } from "./useDraft";
import { edgePort, kindInfo, kinds, languagesOf, newNode, ports, uniqueID } from "./graph";
import { autoLayout } from "./layout";

const nodeTypes = { fd: FlowNode };
const dragType = "application/x-frontdesk-kind";

const saveLabel: Record<SaveState, string> = {
  loading: "Loading…",
  saved: "Saved",
  dirty: "Unsaved changes",
  saving: "Saving…",
  conflict: "Conflict",
  error: "Not saved",
};

function BuilderCanvas({ assistantID }: { assistantID: string }) {
  const d = useDraft(assistantID);
  const { change, undo, redo } = d;
  const assistant = useAssistant(assistantID);
  const rf = useReactFlow();
  const [selection, setSelection] = useState<Selection>(null);
  const [showChecks, setShowChecks] = useState(true);
  const [publishing, setPublishing] = useState(false);
  const [showStats, setShowStats] = useState(false);
  const [previewing, setPreviewing] = useState(false);
  const [pvPath, setPvPath] = useState<{ path: string[]; node?: string }>({ path: [] });
  const onPreviewPath = useCallback((path: string[], node: string | undefined) => setPvPath({ path, node }), []);
  const pathSet = useMemo(() => new Set(pvPath.path), [pvPath]);
  // The path's consecutive steps, as edges from → to, to colour the edges.
  const pathSteps = useMemo(() => {
    const s = new Set<string>();
    for (let i = 1; i < pvPath.path.length; i++) s.add(pvPath.path[i - 1] + "→" + pvPath.path[i]);
    return s;
  }, [pvPath]);
  // Per-node visits and drop-offs of the live versions, drawn on the nodes.
  const stats = useQuery({
    queryKey: ["analytics-nodes", assistantID, 30],
    queryFn: () => get<{ nodes: { node_id: string; visits: number; drop_off_rate: number | null }[] | null; not_enough_data: boolean }>(`/assistants/${assistantID}/analytics/nodes`),
    enabled: showStats,
  });
  const statsByNode = useMemo(() => new Map((showStats && stats.data?.nodes ? stats.data.nodes : []).map((n) => [n.node_id, n])), [showStats, stats.data]);
  const sizes = useRef(new Map<string, { width: number; height: number }>());
  const [, bump] = useState(0);
  const g = d.graph;
  const lang = g ? languagesOf(g)[0] : "en";
  const diags = useMemo(() => [...d.checks.errors, ...d.checks.warnings], [d.checks]);

  const nodes: FlowNodeType[] = useMemo(() => {
    if (!g) return [];
    return g.nodes.map((n, i) => {
      const mine = diags.filter((x) => x.node === n.id && !x.edge);
      const m = sizes.current.get(n.id);
      return {
        id: n.id,
        type: "fd" as const,
        position: n.position || { x: 40 + (i % 4) * 300, y: 40 + Math.floor(i / 4) * 200 },
        data: {
          node: n,
          isStart: g.start === n.id,
          lang,
          errors: mine.filter((x) => x.severity === "error").length,
          warnings: mine.filter((x) => x.severity === "warning").length,
          ...(n.id === pvPath.node ? { preview: "current" as const } : pathSet.has(n.id) ? { preview: "path" as const } : {}),
          ...(showStats ? { visits: statsByNode.get(n.id)?.visits ?? 0, dropOff: statsByNode.get(n.id)?.drop_off_rate ?? null } : {}),
        },
        selected: selection?.type === "node" && selection.id === n.id,
        ...(m ? { measured: m, width: m.width, height: m.height } : {}),
      };
    });
    // sizes is a ref; bump re-renders when it changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [g, diags, selection, lang, bump, showStats, statsByNode, pvPath, pathSet]);

  const edges: Edge[] = useMemo(() => {
    if (!g) return [];
    const order = new Map<string, number>();
    const count = new Map<string, number>();
    for (const e of g.edges) {
      const k = e.from + "/" + edgePort(g, e);
      count.set(k, (count.get(k) || 0) + 1);
      order.set(e.id, count.get(k)!);
    }
    return g.edges.map((e) => {
      const port = edgePort(g, e);
      const bad = diags.some((x) => x.edge === e.id && x.severity === "error");
      const many = (count.get(e.from + "/" + port) || 0) > 1;
      const cond = e.condition ? (e.condition.length > 34 ? e.condition.slice(0, 32) + "…" : e.condition) : "";
      const label = (many ? order.get(e.id) + ". " : "") + (cond || (many ? "default" : ""));
      const selected = selection?.type === "edge" && selection.id === e.id;
      return {
        id: e.id,
        source: e.from,
        sourceHandle: port,
        target: e.to,
        targetHandle: "in",
        label: label || undefined,
        selected,
        className: (bad ? "bad" : "") + (e.condition ? " conditional" : "") + (pathSteps.has(e.from + "→" + e.to) ? " in-path" : ""),
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        data: { testid: "edge-" + e.id },
      };
    });
  }, [g, diags, selection, pathSteps]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNodeType>[]) => {
      let moved = false;
      const pos = new Map<string, { x: number; y: number }>();
      for (const c of changes) {
        if (c.type === "dimensions" && c.dimensions) {
          sizes.current.set(c.id, c.dimensions);
          moved = true;
        } else if (c.type === "position" && c.position) {
          pos.set(c.id, { x: Math.round(c.position.x), y: Math.round(c.position.y) });
        }
      }
      if (pos.size) {
        change((gr) => ({ ...gr, nodes: gr.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id) } : n)) }), { history: false });
      }
      if (moved) bump((n) => n + 1);
    },
    [change],
  );

  const onEdgesChange = useCallback((_: EdgeChange[]) => {}, []);

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target) return;
      change((gr) => {
        const from = gr.nodes.find((n) => n.id === c.source);
        if (!from) return gr;
        const port = c.sourceHandle || ports(from.kind)[0];
        const id = uniqueID(
          gr.edges.map((e) => e.id),
          c.source + "-" + c.target,
        );
        const edge = { id, from: c.source!, to: c.target!, ...(port !== ports(from.kind)[0] ? { port } : {}) };
        return { ...gr, edges: [...gr.edges, edge] };
      });
    },
    [change],
  );

  function addNode(kind: Kind, at?: { x: number; y: number }) {
    if (!g) return;
    let pos = at;
    if (!pos) {
      const box = document.querySelector(".canvas")?.getBoundingClientRect();
      pos = rf.screenToFlowPosition({ x: (box?.left || 0) + (box?.width || 800) / 2 - 120, y: (box?.top || 0) + (box?.height || 600) / 2 - 50 });
    }
    const n = newNode(g, kind, { x: Math.round(pos.x), y: Math.round(pos.y) });
    d.change((gr) => ({ ...gr, nodes: [...gr.nodes, n] }));
    setSelection({ type: "node", id: n.id });
  }

  function onDrop(e: DragEvent) {
    const kind = e.dataTransfer.getData(dragType) as Kind;
    if (!kind) return;
    e.preventDefault();
    addNode(kind, rf.screenToFlowPosition({ x: e.clientX - 110, y: e.clientY - 30 }));
  }

  const focus = useCallback(
    (diag: Diagnostic) => {
      if (!g) return;
      let nodeID = diag.node;
      if (diag.edge) {
        setSelection({ type: "edge", id: diag.edge });
        nodeID = nodeID || g.edges.find((e) => e.id === diag.edge)?.from;
      } else if (diag.node) {
        setSelection({ type: "node", id: diag.node });
      } else {
        setSelection(null);
      }
      const n = nodeID && g.nodes.find((x) => x.id === nodeID);
      if (n && n.position) {
        const s = sizes.current.get(n.id) || { width: 240, height: 120 };
        void rf.setCenter(n.position.x + s.width / 2, n.position.y + s.height / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 300 });
      }
    },
    [g, rf],
  );

  // Keyboard: undo and redo, outside text fields.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
      const mod = e.metaKey || e.ctrlKey;
      if (mod && e.key.toLowerCase() === "z") {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if (mod && e.key.toLowerCase() === "y") {
        e.preventDefault();
        redo();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo]);

  if (d.loadError) return <div className="error pad">Could not load the draft: {d.loadError}</div>;
  if (!g) return <div className="center muted">Loading the draft…</div>;
  const nErr = d.checks.errors.length;
  const nWarn = d.checks.warnings.length;

  return (
    <div className="builder">
      <div className="toolbar">
        <button onClick={d.undo} disabled={!d.canUndo} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={d.redo} disabled={!d.canRedo} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <span className="sep" />
        <button
          onClick={() => {
            d.change((gr) => autoLayout(gr, sizes.current));
            setTimeout(() => void rf.fitView({ padding: 0.15, duration: 300 }), 50);
          }}
        >
          Auto-layout
        </button>
        <button onClick={() => void rf.fitView({ padding: 0.15, duration: 300 })}>Fit</button>
        <label className="check small" title="Visits and drop-offs per node over the last 30 days">
          <input type="checkbox" checked={showStats} onChange={(e) => setShowStats(e.target.checked)} /> Node analytics
        </label>
        {showStats && stats.data?.not_enough_data && <span className="muted small">not enough data yet</span>}
        <span className="sep" />
        <FileButtons assistantID={assistantID} name={assistant.data?.name || "assistant"} flush={d.flush} reload={d.reload} disabled={d.state === "conflict" || d.state === "loading"} />
        <span className="grow" />
        <button className={previewing ? "active" : ""} aria-pressed={previewing} onClick={() => setPreviewing((v) => !v)} data-testid="preview-toggle">
          Preview
        </button>
        <span className={"save " + d.state} data-testid="save-state" title={d.saveError || undefined}>
          {saveLabel[d.state]}
          {d.state === "saved" && <span className="muted"> · rev {d.revision}</span>}
        </span>
        <button className={"checks-btn" + (nErr ? " bad" : "")} onClick={() => setShowChecks((v) => !v)} data-testid="checks-toggle">
          {nErr ? nErr + " error" + (nErr > 1 ? "s" : "") : "No errors"}
          {nWarn > 0 && ", " + nWarn + " warning" + (nWarn > 1 ? "s" : "")}
        </button>
        <button className="primary" onClick={() => setPublishing(true)} disabled={d.state === "conflict" || d.state === "loading"}>
          Publish…
        </button>
      </div>
      {d.state === "conflict" && (
        <div className="banner conflict" role="alert" data-testid="conflict-banner">
          Someone else saved this draft{d.conflictRevision && d.conflictRevision > 0 ? " (revision " + d.conflictRevision + ")" : ""} while you were editing. Your changes are not saved.
          <button onClick={() => void d.discardMine()}>Load their version</button>
          <button className="danger" onClick={() => void d.keepMine()}>
            Overwrite with mine
          </button>
        </div>
      )}
      {d.state === "error" && d.saveError && (
        <div className="banner errorbar" role="alert">
          Not saved: {d.saveError}
        </div>
      )}
      <div className="builder-main">
        <aside className="palette" aria-label="Node kinds">
          <div className="muted small">Drag onto the canvas, or click to add</div>
          {kinds.map((k) => (
            <button
              key={k}
              className="pal"
              draggable
              data-kind={k}
              onDragStart={(e) => {
                e.dataTransfer.setData(dragType, k);
                e.dataTransfer.effectAllowed = "move";
              }}
              onClick={() => addNode(k)}
              title={kindInfo[k].about}
              style={{ borderLeftColor: kindInfo[k].color }}
            >
              {kindInfo[k].label}
            </button>
          ))}
        </aside>
        <div className="canvas" onDrop={onDrop} onDragOver={(e) => e.preventDefault()} data-testid="canvas">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onNodeClick={(_, n) => setSelection({ type: "node", id: n.id })}
            onEdgeClick={(_, e) => setSelection({ type: "edge", id: e.id })}
            onPaneClick={() => setSelection(null)}
            onNodeDragStart={() => d.checkpoint()}
            onNodesDelete={(ns) => {
              const ids = new Set(ns.map((n) => n.id));
              d.change((gr) => ({ ...gr, nodes: gr.nodes.filter((n) => !ids.has(n.id)), edges: gr.edges.filter((e) => !ids.has(e.from) && !ids.has(e.to)) }));
              setSelection(null);
            }}
            onEdgesDelete={(es) => {
              const ids = new Set(es.map((e) => e.id));
              d.change((gr) => ({ ...gr, edges: gr.edges.filter((e) => !ids.has(e.id)) }));
              setSelection(null);
            }}
            deleteKeyCode={["Delete", "Backspace"]}
            fitView
            fitViewOptions={{ padding: 0.15 }}
            minZoom={0.1}
            maxZoom={2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={20} />
            <Controls />
            <MiniMap pannable zoomable nodeColor={(n) => kindInfo[(n as FlowNodeType).data.node.kind].color} />
          </ReactFlow>
        </div>
        <aside className="side-panel">
          <Inspector graph={g} selection={selection} select={setSelection} change={d.change} diagnostics={diags} checking={d.checks.checking} />
        </aside>
        {previewing && <PreviewPane assistantID={assistantID} flush={d.flush} hold={d.hold} onPath={onPreviewPath} onClose={() => setPreviewing(false)} />}
      </div>
      {showChecks && <ChecksPanel errors={d.checks.errors} warnings={d.checks.warnings} checking={d.checks.checking} onFocus={focus} onClose={() => setShowChecks(false)} />}
      {publishing && (
        <PublishDialog
          assistantID={assistantID}
          graph={g}
          latestVersion={assistant.data?.latest_version || 0}
          flush={d.flush}
          onClose={() => setPublishing(false)}
          onFocus={focus}
        />
      )}
    </div>
  );
}

export default function Builder() {
  const { id } = useParams();
  return (
    <ReactFlowProvider>
      <BuilderCanvas key={id} assistantID={id!} />
    </ReactFlowProvider>
  );
}
