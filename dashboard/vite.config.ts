import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The dashboard builds into the repo's public/, which the gateway serves at `/`.
export default defineConfig({
  root,
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../public', import.meta.url)),
    emptyOutDir: true,
    // No inline script or module-preload polyfill: the CSP allows script-src 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:18789', ws: true },
      '/status': 'http://127.0.0.1:18789',
    },
  },
});
