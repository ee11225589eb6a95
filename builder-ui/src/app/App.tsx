import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { AuthProvider, useAuth } from "./auth";
import { Shell } from "./Shell";
import { Login } from "./pages/Login";
import { Assistants } from "./pages/Assistants";
import { AssistantLayout } from "./pages/AssistantLayout";
import { Versions } from "./pages/Versions";
import { Settings } from "./pages/Settings";
import { Channels } from "./pages/Channels";
import { Knowledge } from "./pages/Knowledge";
import { Webhooks } from "./pages/Webhooks";
import { Team } from "./pages/Team";
import { Account } from "./pages/Account";
import { LiveProvider } from "./inbox/live";

// The heavy pages load on demand: the canvas, the charts and the inbox.
const Builder = lazy(() => import("./builder/Builder"));
const Analytics = lazy(() => import("./pages/Analytics"));
const Inbox = lazy(() => import("./inbox/Inbox"));

function RequireAuth({ children }: { children: ReactNode }) {
  const { me, loading } = useAuth();
  const loc = useLocation();
  if (loading) return <div className="center muted">Loading…</div>;
  if (!me) return <Navigate to="/login" state={{ from: loc.pathname }} replace />;
  return <>{children}</>;
}

function Home() {
  const { canBuild } = useAuth();
  return <Navigate to={canBuild ? "/assistants" : "/inbox"} replace />;
}

export function App() {
  return (
    <AuthProvider>
      <Suspense fallback={<div className="center muted">Loading…</div>}>
        <Routes>
          <Route path="/login" element={<Login />} />
          <Route
            element={
              <RequireAuth>
                <LiveProvider>
                  <Shell />
                </LiveProvider>
              </RequireAuth>
            }
          >
            <Route index element={<Home />} />
            <Route path="assistants" element={<Assistants />} />
            <Route path="assistants/:id" element={<AssistantLayout />}>
              <Route index element={<Navigate to="builder" replace />} />
              <Route path="builder" element={<Builder />} />
              <Route path="versions" element={<Versions />} />
              <Route path="settings" element={<Settings />} />
              <Route path="knowledge" element={<Knowledge />} />
              <Route path="analytics" element={<Analytics />} />
            </Route>
            <Route path="inbox" element={<Inbox />} />
            <Route path="inbox/:folder" element={<Inbox />} />
            <Route path="inbox/:folder/:conv" element={<Inbox />} />
            <Route path="channels" element={<Channels />} />
            <Route path="webhooks" element={<Webhooks />} />
            <Route path="team" element={<Team />} />
            <Route path="account" element={<Account />} />
            <Route path="*" element={<div className="page">Not found.</div>} />
          </Route>
        </Routes>
      </Suspense>
    </AuthProvider>
  );
}
