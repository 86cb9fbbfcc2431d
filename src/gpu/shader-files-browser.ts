// Browser: Vite bundles every shader as text.
const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

export function readShaderFile(name: string): string {
  const text = files[`../../shaders/${name}.wgsl`];
  if (text === undefined) throw new Error(`Unknown shader 'shaders/${name}.wgsl'.`);
  return text;
}
