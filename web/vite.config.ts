/**
 * Builds the Connections page (index.html) and the GraphQL explorer (explorer.html) into
 * web/dist, which the server serves (src/http/static-files.ts). Everything is bundled: the
 * pages load nothing from any other host.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  // The app's JSX is Preact's; the explorer is React (GraphiQL) and uses no JSX.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No data: URLs, so the page's CSP can keep img-src and font-src to 'self'.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 6000,
    rollupOptions: {
      input: { index: `${root}index.html`, explorer: `${root}explorer.html` },
      // GraphiQL's React dependencies mark modules "use client", which means nothing in a bundle.
      onLog(level, log, handler) {
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
  worker: { format: "es" },
  server: {
    // `npx vite web` for development, against `npm start` on the default port.
    proxy: { "/graphql": "http://127.0.0.1:4000" },
  },
});
