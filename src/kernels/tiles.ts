// The GEMM tile of every kernel that runs shaders/tiles.wgsl's tile_product, in one table: the
// same numbers become the pipelines' override constants (TILE_LANES, TILE_ROWS, TILE_QUADS) and the
// dispatch counts, so the shaders and the wrappers cannot disagree. The shader accepts 4 or 8 rows
// and 1 or 2 quads; pipeline creation fails for any other tile (see its header for why these and
// what the other forms measured).
import { workgroupCount, type BufferBinding } from '../gpu/runtime';

/** An invocation's tile: `rows` rows of C by `quads` quads of 4 consecutive columns; `lanes` invocations per workgroup, along the columns. */
export interface GemmTile {
  readonly lanes: number;
  readonly rows: number;
  readonly quads: number;
}

/**
 * 8 rows x 2 quads (8 x 8) with 8 lanes won for the dense products on lavapipe and for the Parzen
 * distances, a product of the same shape at 10,000 x 10,000 x 784 (shaders/tiles.wgsl lists what
 * the other tiles measured).
 */
export const GEMM_TILES = {
  denseForward: { lanes: 8, rows: 8, quads: 2 },
  denseGradInput: { lanes: 8, rows: 8, quads: 2 },
  denseGradWeight: { lanes: 8, rows: 8, quads: 2 },
  parzenDistances: { lanes: 8, rows: 8, quads: 2 },
} as const satisfies Record<string, GemmTile>;

/** The override constants of a pipeline that runs `tile`. */
export function tileConstants(tile: GemmTile): Record<'TILE_LANES' | 'TILE_ROWS' | 'TILE_QUADS', number> {
  return { TILE_LANES: tile.lanes, TILE_ROWS: tile.rows, TILE_QUADS: tile.quads };
}

/** Workgroups that cover C (rows, columns) with `tile`: rows in blocks of tile.rows, quads of columns in blocks of quads * lanes. */
export function tileWorkgroups(tile: GemmTile, rows: number, columns: number): [number, number] {
  return [workgroupCount(rows, tile.rows), workgroupCount(Math.ceil(columns / 4), tile.quads * tile.lanes)];
}

/**
 * A binding read as vec4s (the tile's right-hand side, and grad_weight's left): its size rounded up
 * to whole vec4s. The shaders never read the padding's values into results, but a vec4 array must
 * cover every element. Buffers from Runtime.createBuffer and tensors of the parameter layout always
 * have that room.
 */
export function quadBinding(binding: BufferBinding): BufferBinding {
  if (!('buffer' in binding)) return binding;
  const offset = binding.offset ?? 0;
  const size = binding.size ?? binding.buffer.size - offset;
  const rounded = Math.ceil(size / 16) * 16;
  if (offset + rounded > binding.buffer.size) throw new RangeError(`${binding.buffer.label}: no room to read ${size} bytes at ${offset} as whole vec4s`);
  return { buffer: binding.buffer, offset, size: rounded };
}
