import { defineConfig } from 'vite';
export default defineConfig({
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: '.device/bundle',
    emptyOutDir: true,
    minify: false,
    rollupOptions: { input: { lab: 'src/cli/lab.ts' }, output: { format: 'es', entryFileNames: '[name].mjs' } },
  },
});
