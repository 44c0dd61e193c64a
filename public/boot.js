// Starts the site's wasm: Trunk's loader, kept out of the pages so that the Content-Security-Policy
// needs no inline script. Trunk.toml's `pattern_script` writes the <script> tag that loads this
// file, with the hashed names of the app's JS and wasm in its data attributes.
//
// Every page is prerendered, so the reading app adds nothing the page needs to be read: it starts
// once the page has loaded (`cargo xtask pages` removes Trunk's preloads of it), and its download
// never competes with the page's stylesheet and images.
const tag = document.querySelector("script[data-wasm-app]");
async function start() {
  const { default: init } = await import(tag.dataset.js);
  await init({ module_or_path: tag.dataset.wasm });
}
if (document.readyState === "complete") {
  await start();
} else {
  addEventListener("load", start, { once: true });
}
