/**
 * Builds the console into `packages/console/dist`, which `trellis serve` serves at `/`.
 * The build must work offline and fast (it runs on `npm install`), so there is nothing here
 * beyond React: no CDN assets, no fonts, no plugins that download.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** `npm run dev` proxies the API to a running `trellis serve` (TRELLIS_API, default :8080). */
const api = process.env.TRELLIS_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': { target: api, ws: true } } },
});
