import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served at the API's origin (`/v1/*` is the API): in dev, Vite proxies /v1 to `npm start`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { '/v1': process.env.API_URL ?? 'http://127.0.0.1:3000' } },
});
