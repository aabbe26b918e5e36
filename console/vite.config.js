// The console's build: `npm run build:console` writes console/dist, which the gateway serves at
// /console/ locally and the CDK app uploads to S3 behind CloudFront. Relative asset URLs (base
// './') let the same build live under /console/ and at a CloudFront root. React's JSX is
// compiled by Vite's own transform (no plugin), so the build needs nothing beyond Vite.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
