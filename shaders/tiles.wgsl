// Output tiles of the dense kernels (dense.forward.wgsl and dense.backward.wgsl, which include this
// file; each declares the WORKGROUP override). An invocation computes ROWS x COLS outputs: COLS
// columns WORKGROUP apart, held as GROUPS vec4s, so that at every step the lanes of a workgroup read
// consecutive addresses, and every weight a lane loads feeds ROWS multiply-adds. Columns past the end
// are clamped for loading and never stored. Tested through test/kernels/dense.test.ts.
const ROWS: u32 = 4u;
const GROUPS: u32 = 4u;
const COLS: u32 = 4u * GROUPS;

struct Columns {
  index: array<vec4<u32>, GROUPS>,
  live: array<vec4<bool>, GROUPS>,
}

// The columns of the invocation whose first column is `first`, in a row of `count` columns.
fn tile_columns(first: u32, count: u32) -> Columns {
  var columns: Columns;
  for (var g = 0u; g < GROUPS; g++) {
    for (var c = 0u; c < 4u; c++) {
      let column = first + (4u * g + c) * WORKGROUP;
      columns.index[g][c] = min(column, count - 1u);
      columns.live[g][c] = column < count;
    }
  }
  return columns;
}
