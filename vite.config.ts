import { defineConfig } from 'vite';

// The pages in examples/ import src/ directly; shaders come in as text through import.meta.glob
// (src/gpu/shader-files-browser.ts), chosen by the "browser" condition of package.json's imports.
export default defineConfig({
  root: 'examples',
  server: { fs: { allow: ['..'] } },
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022' },
  resolve: { conditions: ['browser'] },
});
