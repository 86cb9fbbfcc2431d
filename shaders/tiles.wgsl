// Output tiles of the dense kernels (dense.forward.wgsl and dense.backward.wgsl include this file;
// each declares the WORKGROUP override). An invocation computes ROWS x COLS outputs: ROWS rows by
// QUADS quads of 4 consecutive columns, its quads WORKGROUP apart, so that the lanes of a workgroup
// read consecutive 16-byte quads of the right-hand matrix. Tested through test/kernels/dense.test.ts.
//
// Why these numbers (lavapipe, Mesa 25; bench/gemm_variants.ts keeps the losing forms): every
// storage load with a per-lane address becomes a loop over the 8 lanes with a bounds check each,
// about a dozen instructions per lane and component whatever the address, while a multiply-add is
// three (mul, add, and the blend of the loop's execution mask). So the product loop is load-bound
// and the tile should make many multiply-adds per loaded component: 8 x 8 makes 64 per 16 (the old
// 4 x 16 tile made 64 per 20), and a vec4 load shares one lane loop between 4 components. On the
// 100 x 1200 x 1200 product, in two runs: the old 4 x 16 tile with scalar loads 5.1-5.2 GFLOP/s,
// 8 x 8 with scalar loads 7.0-11.2, 8 x 8 with vec4 loads of the right-hand side 10.4-12.3 (2.0-2.4x
// the old tile). Larger tiles run fewer instructions but spill (12 x 12: 8.2-9.8, 16 x 16:
// 7.5-8.9); unrolling k by 4 spills too (4.9-5.0); reading the left-hand side as vec4s of its
// transpose (11.3-12.3) or the right-hand side from a texture (9.9-14.6) did not win clearly
// enough to pay for the extra copies every update would need; dot products along k (6.4-8.6) and
// workgroup-shared tiles (4.5-6.0, barriers are coroutine switches on lavapipe) lost. On the paper's
// layers, timed beside the previous kernels in three runs: forward 1.2-1.9x, grad_input 1.4-1.9x,
// grad_weight 2.0-2.7x faster.
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
