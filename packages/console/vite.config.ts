import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served at the API's origin (`/v1/*` is the API): in dev, Vite proxies /v1 to `npm start`.
export default defineConfig(({ command }) => ({
  root: import.meta.dirname,
  // A build is always React's production build, even when run from a test process (vitest sets NODE_ENV=test).
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
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
}));
