// The dev server (npm run dev): the admin app at http://localhost:5173/app/
// and the chat frame at /widget/frame.html, with hot reload, proxying the
// API and both websockets to a Frontdesk on :8080 (FRONTDESK_DEV_TARGET to
// change it). Production builds are scripts/build.mjs.
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.FRONTDESK_DEV_TARGET || "http://127.0.0.1:8080";

// The admin app routes in the browser: /app/anything serves app/index.html,
// as package web does in production.
const appFallback: Plugin = {
  name: "frontdesk-app-fallback",
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      const path = (req.url || "").split("?")[0];
      if (path === "/app" || (path.startsWith("/app/") && !/\.[a-z0-9]+$/i.test(path) && !path.startsWith("/app/@"))) {
        req.url = "/app/index.html";
      }
      next();
    });
  },
};

export default defineConfig({
  plugins: [react(), appFallback],
  appType: "mpa",
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target,
        changeOrigin: true,
        ws: true,
        // The agent socket only admits the server's own Origin; through the
        // proxy the browser's is the dev server's, so it is rewritten.
        configure(proxy) {
          proxy.on("proxyReqWs", (req) => req.setHeader("origin", target));
          proxy.on("proxyReq", (req) => {
            if (req.getHeader("origin")) req.setHeader("origin", target);
          });
        },
      },
      "/widget.js": { target, changeOrigin: true },
    },
  },
});
