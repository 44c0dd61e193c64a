//! The site's wasm entry point: mounts the app on `<body>`.

fn main() {
    leptos::mount::mount_to_body(sre_site::App);
}
