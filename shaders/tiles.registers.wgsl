// The GEMM tile's registers form (shaders/tiles.wgsl), the shipped one: every lane reads A's column
// itself at every k (the tile's own loop). The chunk functions that the other forms define exist
// here only so that tile_product compiles; with TILE_FORM = TILE_REGISTERS nothing calls them.

const TILE_FORM: u32 = TILE_REGISTERS;

fn tile_chunk_size() -> u32 {
  return 1u;
}

fn tile_chunk_rank(lane: u32) -> u32 {
  return 0u;
}

fn tile_chunk_fetch(operands: u32, rows: TileRows, k: u32, lane: u32) -> TileColumn {
  return tile_a(operands, rows, k);
}

fn tile_chunk_column(mine: TileColumn, j: u32) -> TileColumn {
  return mine;
}

fn tile_chunk_done() {}
