// The GEMM tile of every kernel that runs shaders/tiles.wgsl's tile_product, in one table: the
// same numbers become the pipelines' override constants (TILE_LANES, TILE_ROWS, TILE_QUADS) and the
// dispatch counts, so the shaders and the wrappers cannot disagree. The shader accepts 4 or 8 rows
// and 1 or 2 quads; pipeline creation fails for any other tile (see its header for why these and
// what the other forms measured).
import { workgroupCount, type BufferBinding } from '../gpu/runtime';

/**
 * The loop that computes the tile (shaders/tiles.wgsl): `registers`, every lane reads A's column
 * itself; `workgroup`, the lanes stage chunks of A's columns in workgroup memory; `subgroups`, they
 * pass them around with subgroupShuffle. All three sum the same products in the same order.
 */
export type TileForm = 'registers' | 'workgroup' | 'subgroups';

/** An invocation's tile: `rows` rows of C by `quads` quads of 4 consecutive columns; `lanes` invocations per workgroup, along the columns; `form`, how the product loop reads A. */
export interface GemmTile {
  readonly form: TileForm;
  readonly lanes: number;
  readonly rows: number;
  readonly quads: number;
}

/** The kernels that run the tile, by the products they compute. */
export type TileKernel = 'denseForward' | 'denseGradInput' | 'denseGradWeight' | 'parzenDistances';

/**
 * The shipped tiles: 8 rows x 2 quads (8 x 8) with 8 lanes, read from registers, won for the dense
 * products on lavapipe and for the Parzen distances, a product of the same shape at 10,000 x 10,000
 * x 784 (shaders/tiles.wgsl lists what the other tiles measured). src/kernels/tune.ts may choose
 * another of tileVariants per shape and adapter; GAN_TUNE=off keeps these.
 */
export const GEMM_TILES = {
  denseForward: { form: 'registers', lanes: 8, rows: 8, quads: 2 },
  denseGradInput: { form: 'registers', lanes: 8, rows: 8, quads: 2 },
  denseGradWeight: { form: 'registers', lanes: 8, rows: 8, quads: 2 },
  parzenDistances: { form: 'registers', lanes: 8, rows: 8, quads: 2 },
} as const satisfies Record<TileKernel, GemmTile>;

/** A tile the tuner may time, by a name that the log line, the cache and GAN_TUNE use. */
export interface TileVariant {
  readonly name: string;
  readonly tile: GemmTile;
}

/** What the variants on offer depend on: the device's features and the adapter's largest subgroup. */
export interface TileDevice {
  features: ReadonlySet<string>;
  /** GPUAdapterInfo.subgroupMaxSize where the adapter tells it. */
  subgroupMaxSize?: number;
  /** A software adapter (lavapipe, SwiftShader), which runs a workgroup on one CPU thread. */
  software?: boolean;
}

/** The name of a tile: form/lanes, with the rows x columns when they are not the shipped 8 x 8. */
export function tileName(tile: GemmTile): string {
  const size = tile.rows === 8 && tile.quads === 2 ? '' : ` ${tile.rows}x${4 * tile.quads}`;
  return `${tile.form}/${tile.lanes}${size}`;
}

/**
 * The variants of a kernel's tile that a device can run, the shipped one first. On a GPU: the 8 x 8
 * tile read from registers with 8 lanes (shipped) and with 64 (a GPU runs 32 or 64 lanes at once,
 * and 8-lane workgroups leave most of them idle), staged in workgroup memory with 64 lanes, and,
 * where the device has the `subgroups` feature, exchanged by subgroup shuffles in a workgroup of
 * whole subgroups. On a software adapter, which runs a workgroup on one CPU thread and where
 * workgroups of 64 lanes measured slower whatever their loop (shaders/tiles.wgsl), the same forms
 * with 8 lanes, and no wide one: each variant costs the first run its pipelines' compilation.
 * No f16 form is offered: rounding the operands to f16 moves a product by up to 2^-11 of its
 * magnitude, 240 times the bound the kernels' twin tests hold (test/kernels/dense.test.ts).
 */
export function tileVariants(kernel: TileKernel, device: TileDevice): TileVariant[] {
  const shipped: GemmTile = GEMM_TILES[kernel];
  const wide = device.software ? shipped.lanes : 64;
  const tiles: GemmTile[] = [shipped, { ...shipped, lanes: wide }];
  // A software adapter's workgroup memory is ordinary memory behind barriers: measured on lavapipe the
  // workgroup form lost on every shape (1.5-3x slower), and compiling it cost most of a first run's tuning.
  if (!device.software) tiles.push({ ...shipped, form: 'workgroup', lanes: wide });
  const subgroup = device.subgroupMaxSize;
  // A subgroup form needs whole subgroups (shaders/tiles.subgroups.wgsl says why).
  if (device.features.has('subgroups') && subgroup !== undefined && subgroup >= 1 && subgroup <= 128) {
    tiles.push({ ...shipped, form: 'subgroups', lanes: Math.max(shipped.lanes, subgroup) });
  }
  const seen = new Set<string>();
  return tiles.map((tile) => ({ name: tileName(tile), tile })).filter((v) => !seen.has(v.name) && !!seen.add(v.name));
}

/** The shader that runs `tile`: the kernel's own for the registers form, `kernel+form` for the others (src/gpu/shaders.ts kernelFiles). */
export function tileShader(shader: string, tile: GemmTile): string {
  return tile.form === 'registers' ? shader : `${shader}+${tile.form}`;
}

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
  if (offset + rounded > binding.buffer.size)
    throw new RangeError(`${binding.buffer.label}: no room to read ${size} bytes at ${offset} as whole vec4s`);
  return { buffer: binding.buffer, offset, size: rounded };
}
