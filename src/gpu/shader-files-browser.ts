// The repository's pages (Vite): every shader bundled as text by import.meta.glob. The built package
// bundles them as strings instead (scripts/build-package.mjs), so nothing Vite-specific ships.
import { shaderLookup } from './shader-table';

const globbed = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;
const byName = Object.fromEntries(
  Object.entries(globbed).map(([path, text]) => [path.replace(/^.*\/(.*)\.wgsl$/, '$1'), text]),
);

export const readShaderFile = shaderLookup(byName);
