import { defineConfig } from 'vite';

// Config for running the command line (`npm run lab`) and the benchmark under vite-node, so the same
// `?raw` WGSL imports work in Node as in the browser.
export default defineConfig({
  server: { hmr: false, watch: null },
  logLevel: 'error',
});
