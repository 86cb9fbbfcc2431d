// The GEMM tile's subgroup form (shaders/tiles.wgsl), for devices with the `subgroups` feature: the
// lanes of a subgroup fetch one column of A's tile rows each, lane of rank r column k0 + r, and
// pass them around with subgroupShuffle: no workgroup memory, no barrier. A lane's rank is its
// subgroup_invocation_id only when every invocation of the subgroup is active, so the tuner gives
// this form a workgroup that is a multiple of the adapter's largest subgroup (src/kernels/tiles.ts),
// and tile_product runs in uniform control flow (every kernel calls it before any early return).

enable subgroups;
// The chunk's length and the lanes' ranks come from subgroup operations, which the uniformity
// analysis counts as varying; they are the same across the subgroup, which is all a shuffle needs.
diagnostic(off, subgroup_uniformity);

const TILE_FORM: u32 = TILE_SUBGROUPS;

fn tile_chunk_size() -> u32 {
  return subgroupAdd(1u);
}

fn tile_chunk_rank(lane: u32) -> u32 {
  return subgroupExclusiveAdd(1u);
}

fn tile_chunk_fetch(operands: u32, rows: TileRows, k: u32, lane: u32) -> TileColumn {
  return tile_a(operands, rows, k);
}

fn tile_chunk_column(mine: TileColumn, j: u32) -> TileColumn {
  return TileColumn(subgroupShuffle(mine[0], j), subgroupShuffle(mine[1], j));
}

fn tile_chunk_done() {}
