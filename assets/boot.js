// Loads the Kiln studio (a separate file, so the Content-Security-Policy needs no inline script).
import init from "/pkg/frontend.js";
init({ module_or_path: "/pkg/frontend_bg.wasm" });
