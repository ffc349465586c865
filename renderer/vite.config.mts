// Renderer build: one static bundle in dist/renderer, loaded by Electron from
// file:// and by `iommuscope serve` over HTTP, so every URL is relative
// (base './'). No inline scripts: both hosts send `script-src 'self'`.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [vue()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Never inline the module preload polyfill or small assets as data: scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // ELK (elkjs, 1.46 MB minified) is its own chunk, loaded when the Topology view first lays out.
    chunkSizeWarningLimit: 1600,
    sourcemap: false,
  },
});
