import { defineConfig } from "vite";

// Where `vite dev` / `vite preview` forward /api (the ice-peer backend).
const backend = process.env.ICE_PEER_BACKEND ?? "http://127.0.0.1:8080";

export default defineConfig({
  // Plain Vite: esbuild's automatic JSX runtime instead of @vitejs/plugin-react.
  esbuild: { jsx: "automatic" },
  // Pre-bundling would move ice_peer.js away from its .wasm; serve it as is.
  optimizeDeps: { exclude: ["ice-peer"] },
  build: {
    target: "es2022", // main.tsx awaits the wasm at the top level
    // Always emit the wasm as a file: a data: URL would bloat the JS and break under a strict CSP.
    assetsInlineLimit: (file) => (file.endsWith(".wasm") ? false : undefined),
  },
  server: {
    proxy: { "/api": backend },
    // "ice-peer" is a file: link to ../../pkg, outside this folder.
    fs: { allow: ["..", "../../pkg"] },
  },
  preview: { proxy: { "/api": backend } },
});
