// The GEMM tile's workgroup form (shaders/tiles.wgsl): A's columns k0 .. k0 + TILE_LANES - 1 of the
// tile's rows are staged in workgroup memory, lane l fetching column k0 + l, so a workgroup reads
// each element of A once instead of once per lane, with consecutive lanes on consecutive k (one
// coalesced read where A is row-major). Two barriers per chunk: before the lanes read the stage,
// and before it is overwritten. tile_product must then run in uniform control flow (every kernel
// calls it before any early return).

const TILE_FORM: u32 = TILE_WORKGROUP_MEMORY;

var<workgroup> tile_stage: array<TileColumn, TILE_LANES>;

fn tile_chunk_size() -> u32 {
  return TILE_LANES;
}

fn tile_chunk_rank(lane: u32) -> u32 {
  return lane;
}

fn tile_chunk_fetch(operands: u32, rows: TileRows, k: u32, lane: u32) -> TileColumn {
  let mine = tile_a(operands, rows, k);
  tile_stage[lane] = mine;
  workgroupBarrier();
  return mine;
}

fn tile_chunk_column(mine: TileColumn, j: u32) -> TileColumn {
  return tile_stage[j];
}

fn tile_chunk_done() {
  workgroupBarrier();
}
