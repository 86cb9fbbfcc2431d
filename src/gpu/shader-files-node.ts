// Node: shaders are read from the repository's shaders/ folder.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const shaderDir = fileURLToPath(new URL('../../shaders/', import.meta.url));

export function readShaderFile(name: string): string {
  try {
    return readFileSync(`${shaderDir}${name}.wgsl`, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read shader 'shaders/${name}.wgsl': ${(err as Error).message}`);
  }
}
