import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import init from "ice-peer";
// `?url` makes Vite emit the wasm as an asset and hand us its final URL.
import wasmUrl from "ice-peer/ice_peer_bg.wasm?url";
import { App } from "./App";
import "./styles.css";

// The wasm must be instantiated before any ice-peer export is used.
await init({ module_or_path: wasmUrl });

const root = document.getElementById("root");
if (!root) throw new Error("#root missing");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
