// Vite config for bench/gpu-check-prepare.sh: the lab's command line and the benchmark bundled for Node into
// .device/bundle/{lab,bench}.mjs, so that a GPU machine without a registry runs them with a packed Node and a pruned
// node_modules. Only `webgpu` (Dawn's native addon) stays outside the bundle. The browser half of the benchmark
// (bench/browser.ts: Playwright's Chromium and Vite's dev server) is replaced by stubs that throw if called: the
// GPU check runs the benchmark with --no-browser, and Playwright cannot be bundled (it reads its own package files).
// `?raw` WGSL imports are inlined as in the browser build.
import { defineConfig, type Plugin } from 'vite';

const STUBS: Record<string, string> = {
  '@playwright/test': 'chromium',
  vite: 'createServer',
};

function browserStubs(): Plugin {
  return {
    name: 'gpu-check-browser-stubs',
    enforce: 'pre',
    resolveId(id) {
      return id in STUBS ? `\0stub:${id}` : null;
    },
    load(id) {
      if (!id.startsWith('\0stub:')) return null;
      const name = id.slice('\0stub:'.length);
      const msg = `${name} is not in the GPU-check bundle: run the benchmark with --no-browser`;
      return STUBS[name] === 'chromium'
        ? `export const chromium = { launch() { throw new Error(${JSON.stringify(msg)}); } };`
        : `export function createServer() { throw new Error(${JSON.stringify(msg)}); }`;
    },
  };
}

export default defineConfig({
  logLevel: 'warn',
  plugins: [browserStubs()],
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: '.device/bundle',
    emptyOutDir: true,
    minify: false,
    rollupOptions: {
      input: { lab: 'src/cli/lab.ts', bench: 'bench/run.ts' },
      output: { format: 'es', entryFileNames: '[name].mjs' },
    },
  },
});
