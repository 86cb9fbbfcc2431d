// Output tiles of the dense kernels (dense.forward.wgsl and dense.backward.wgsl include this file;
// each declares the WORKGROUP override). An invocation computes ROWS x COLS outputs: ROWS rows by
// QUADS quads of 4 consecutive columns, its quads WORKGROUP apart, so that the lanes of a workgroup
// read consecutive 16-byte quads of the right-hand matrix. Tested through test/kernels/dense.test.ts.
//
// Why these numbers (lavapipe, Mesa 25, measured with bench/gemm_variants.ts): every storage load
// with a per-lane address becomes a loop over the 8 lanes with a bounds check each, about a dozen
// instructions per lane and component whatever the address, while a multiply-add is three (mul,
// add and the blend of the loop's execution mask). So the product loop is load-bound and the tile
// should make many multiply-adds per loaded component: ROWS x COLS = 8 x 8 makes 64 per 16 loaded
// components (the old 4 x 16 tile made 64 per 20), and a vec4 load shares one lane loop and one
// bounds check between 4 components. On the 100 x 1200 x 1200 product: 4 x 16 scalar loads 4.4
// GFLOP per CPU-second, 8 x 8 with vec4 loads of the right-hand side 10.7-11.5 (2.5x); larger
// tiles (12 x 12, 16 x 16) execute fewer instructions but spill and ran no faster.
const ROWS: u32 = 8u;
const QUADS: u32 = 2u;
const COLS: u32 = 4u * QUADS;

// The quads of the invocation whose first quad is `first`: first, first + WORKGROUP, ...
fn tile_quads(first: u32) -> array<u32, QUADS> {
  var quads: array<u32, QUADS>;
  for (var g = 0u; g < QUADS; g++) {
    quads[g] = first + g * WORKGROUP;
  }
  return quads;
}

// The first quad of lane `lane` in column block `column_block` of a dispatch.
fn first_quad(column_block: u32, lane: u32) -> u32 {
  return column_block * WORKGROUP * QUADS + lane;
}
