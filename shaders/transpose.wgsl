// Matrix transpose: out (cols, rows) = transpose(a (rows, cols)), both row-major.
// Twin: src/reference/transpose.ts. Test: test/kernels/transpose.test.ts.
// Keeps each weight's transposed copy (dense.backward.wgsl's weight_t) in step after an update.
// Workgroups of TILE x TILE stage a tile in workgroup memory so that both the reads of `a` and the
// writes of `out` are along rows. Dispatch (ceil(cols / TILE), ceil(rows / TILE)).

struct Params {
  rows: u32,
  cols: u32,
}

const TILE: u32 = 8u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;

var<workgroup> tile: array<array<f32, TILE>, TILE>;

@compute @workgroup_size(TILE, TILE)
fn transpose(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let read_row = wid.y * TILE + lid.y;
  let read_col = wid.x * TILE + lid.x;
  if (read_row < params.rows && read_col < params.cols) {
    tile[lid.y][lid.x] = a[read_row * params.cols + read_col];
  }
  workgroupBarrier();
  // The thread (lid.y, lid.x) writes out[wid.x * TILE + lid.y, wid.y * TILE + lid.x].
  let write_row = wid.x * TILE + lid.y;
  let write_col = wid.y * TILE + lid.x;
  if (write_row < params.cols && write_col < params.rows) {
    out[write_row * params.rows + write_col] = tile[lid.x][lid.y];
  }
}
