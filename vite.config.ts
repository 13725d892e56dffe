import { defineConfig } from 'vite';

// The lab is deployed as static files: `npm run build` writes dist/, which any static server can host.
// The worker is an ES module worker so that it can import the engine and the WGSL sources (`?raw`).
export default defineConfig({
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  server: { host: 'localhost' },
  preview: { host: 'localhost' },
});
