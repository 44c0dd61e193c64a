// Starts the site's wasm: Trunk's loader, kept out of the pages so that the Content-Security-Policy
// needs no inline script. Trunk.toml's `pattern_script` writes the <script> tag that loads this
// file, with the hashed names of the app's JS and wasm in its data attributes.
const tag = document.querySelector("script[data-wasm-app]");
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
