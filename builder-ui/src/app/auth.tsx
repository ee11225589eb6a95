import { createContext, useContext, useEffect, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get, post, setCSRF, setUnauthorizedHandler } from "./api";
import type { Me } from "./types";

interface AuthValue {
  me: Me | null;
  loading: boolean;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  canBuild: boolean;
  isAdmin: boolean;
}

const Ctx = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ["me"],
    queryFn: async () => {
      try {
        return await get<Me>("/auth/me");
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 60_000,
  });
  const me = q.data ?? null;
  useEffect(() => {
    setCSRF(me?.csrf_token || "");
  }, [me]);
  useEffect(() => {
    setUnauthorizedHandler(() => qc.setQueryData(["me"], null));
  }, [qc]);
  const value: AuthValue = {
    me,
    loading: q.isLoading,
    async login(email, password) {
      const m = await post<Me>("/auth/login", { email, password });
      setCSRF(m.csrf_token);
      // Another member's cached data must not survive a sign-in; the
      // "me" query stays, observed by this provider.
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      qc.setQueryData(["me"], m);
    },
    async logout() {
      try {
        await post("/auth/logout");
      } finally {
        setCSRF("");
        qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
        qc.setQueryData(["me"], null);
      }
    },
    isAdmin: !!me && (me.user.role === "owner" || me.user.role === "admin"),
    canBuild: !!me && (me.user.role === "owner" || me.user.role === "admin" || me.user.manage_assistants),
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(Ctx);
  if (!v) throw new Error("useAuth outside AuthProvider");
  return v;
}
