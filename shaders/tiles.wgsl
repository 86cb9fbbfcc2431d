// The GEMM tile that every product of the project runs: C = A B for dense forward (dense.forward.wgsl),
// grad_input and grad_weight (dense.backward.wgsl) and the Parzen distances (parzen.wgsl), each
// followed by its own fused tail. Prepended to those shaders (KERNEL_INCLUDES in src/gpu/shaders.ts).
// Tested through test/kernels/dense.test.ts, test/kernels/parzen.test.ts and test/gradcheck.test.ts.
//
// Geometry. An invocation computes TILE_ROWS rows of C by TILE_QUADS quads of 4 consecutive
// columns, its quads TILE_LANES apart, so that the lanes of a workgroup read consecutive 16-byte
// quads of B while every lane reads the same elements of A (on lavapipe still one load per lane:
// docs/speed.md, "What lavapipe makes of a WGSL GEMM").
// Dispatch (ceil(rows of C / TILE_ROWS), ceil(ceil(columns of C / 4) / (TILE_QUADS * TILE_LANES))),
// workgroup TILE_WORKGROUP (= TILE_LANES): workgroups that follow one another share a block of B's
// columns, which stays in cache. The sizes are override constants with no default: each pipeline
// gets them from the one table src/kernels/tiles.ts, which also turns them into dispatch counts.
// TILE_ROWS is 4 or 8 and TILE_QUADS 1 or 2; any other tile makes TILE_WORKGROUP 0, and pipeline
// creation fails ("@workgroup_size values must be greater than 0") instead of computing garbage.
//
// The operands. WGSL has no function parameters that are functions, so a kernel that includes this
// file defines four functions by these names, which tile_product calls:
//   fn tile_depth(operands: u32) -> u32                      K, the length of the inner product
//   fn tile_a_rows(operands: u32, row0: u32) -> TileRows     whatever tile_a needs per row of the
//                                                            tile (row offsets, clamped at the last
//                                                            row), computed once before the k loop
//   fn tile_a(operands: u32, rows: TileRows, k: u32) -> TileColumn
//                                                            A[row0 + r, k] for r < TILE_ROWS: rows
//                                                            0-3 in [0], rows 4-7 in [1]
//   fn tile_b(operands: u32, k: u32, quad: u32) -> vec4<f32> B[k, 4 quad .. 4 quad + 3] (clamped
//                                                            at the last column)
// `operands` is the kernel's own: the maxout piece in dense.forward.wgsl, which product in
// dense.backward.wgsl, unused in parzen.wgsl. Every caller passes either a constant or a value that
// is the same in every lane, and the driver inlines these functions and folds a constant selector
// away: the dense GEMMs on this routine timed within the noise of the hand-written copies it
// replaced (worker CPU time of a paper-mnist iteration 409 ms against 407, medians of 10 turns).
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
// 7.5-8.9), which is why the accumulators stop at 8 x 2 quads; unrolling k by 4 spills too
// (4.9-5.0); reading the left-hand side as vec4s of its transpose (11.3-12.3) or the right-hand side
// from a texture (9.9-14.6) did not win clearly enough to pay for the extra copies every update
// would need; dot products along k (6.4-8.6) and workgroup-shared tiles (4.5-6.0, barriers are
// coroutine switches on lavapipe) lost. On the paper's layers, timed beside the previous kernels in
// three runs: forward 1.2-1.9x, grad_input 1.4-1.9x, grad_weight 2.0-2.7x faster.
// The Parzen distances (1,000 x 10,000 x 784 with the log-mean-exp passes, GFLOP per second of the
// adapter's CPU time, all in one process taking turns, two runs): their previous 4 x 16 tile with
// scalar loads 6.0 and 6.1; this 8 x 8 tile 7.6 and 8.0; 4 rows x 2 quads 6.3, 8 rows x 1 quad 6.7;
// 8 x 8 with 16 lanes 9.0 and 8.1 (a tie with 8 lanes, kept at 8 like the dense kernels), 32 lanes
// 6.9.
//
// Forms. The product loop comes in three forms, one per module: each kernel's module includes
// shaders/tiles.registers.wgsl (the form above: every lane reads A's column itself at every k),
// tiles.workgroup.wgsl (the lanes stage chunks of TILE_LANES columns of A in workgroup memory, one
// column each, then read them all) or tiles.subgroups.wgsl (they pass their columns around with
// subgroupShuffle; only on devices with the `subgroups` feature, whose `enable` no other module may
// carry). A kernel named `dense.forward+workgroup` is dense.forward with that form
// (src/gpu/shaders.ts kernelFiles). Every form adds the same products to the same accumulators in
// the same order, k ascending, so they give the same bits (test/kernels/tune.test.ts checks it) and
// a run may resume on another form. src/kernels/tune.ts times the forms (and 64 lanes against 8) per
// shape and adapter and keeps the fastest. The chunked forms need every lane of the workgroup at
// tile_product (a barrier, or a subgroup operation that counts the lanes), so a kernel calls it in
// uniform control flow, before any early return. Staging A suits a GPU, where lanes that read
// consecutive k of a row-major A make one memory transaction instead of one per k; on lavapipe every
// storage load is a loop over the lanes whether they share the address or not, and staging adds the
// barriers (coroutine switches) on top.
//
// The accumulators are named variables rather than an array, which keeps lavapipe's compiler from
// addressing them through memory; the branches on TILE_ROWS and TILE_QUADS are on override
// constants, fixed when the pipeline is created, and compile away.

override TILE_LANES: u32;
override TILE_ROWS: u32;
override TILE_QUADS: u32;
override TILE_WORKGROUP: u32 = select(0u, TILE_LANES, (TILE_ROWS == 4u || TILE_ROWS == 8u) && (TILE_QUADS == 1u || TILE_QUADS == 2u));

// The forms of the product loop; each kernel module includes one of shaders/tiles.registers.wgsl,
// tiles.workgroup.wgsl and tiles.subgroups.wgsl, which sets TILE_FORM (see the header).
const TILE_REGISTERS: u32 = 0u;
const TILE_WORKGROUP_MEMORY: u32 = 1u;
const TILE_SUBGROUPS: u32 = 2u;

// What the accumulators can hold; a tile uses TILE_ROWS x TILE_QUADS of it.
const TILE_MAX_ROWS: u32 = 8u;
const TILE_MAX_QUADS: u32 = 2u;

alias TileRows = array<u32, TILE_MAX_ROWS>;
alias TileQuads = array<u32, TILE_MAX_QUADS>;
alias TileColumn = array<vec4<f32>, 2>;
alias TileSums = array<array<vec4<f32>, TILE_MAX_QUADS>, TILE_MAX_ROWS>;

// The first row of C of row block `row_block`.
fn tile_row0(row_block: u32) -> u32 {
  return row_block * TILE_ROWS;
}

// The quads of C of lane `lane` in column block `column_block`: TILE_LANES apart.
fn tile_quads(column_block: u32, lane: u32) -> TileQuads {
  let first = column_block * TILE_LANES * TILE_QUADS + lane;
  var quads: TileQuads;
  for (var g = 0u; g < TILE_MAX_QUADS; g++) {
    quads[g] = first + g * TILE_LANES;
  }
  return quads;
}

// sums[r][g] = A[row0 + r, :] B[:, quads[g]] for r < TILE_ROWS, g < TILE_QUADS (the rest is 0).
// Rows and columns past the end of C hold whatever the clamped loads give; the callers store none of
// them.
fn tile_product(operands: u32, row0: u32, quads: TileQuads) -> TileSums {
  let rows = tile_a_rows(operands, row0);
  let depth = tile_depth(operands);
  let q0 = quads[0];
  let q1 = quads[1];
  var a00 = vec4<f32>(); var a01 = vec4<f32>(); var a10 = vec4<f32>(); var a11 = vec4<f32>();
  var a20 = vec4<f32>(); var a21 = vec4<f32>(); var a30 = vec4<f32>(); var a31 = vec4<f32>();
  var a40 = vec4<f32>(); var a41 = vec4<f32>(); var a50 = vec4<f32>(); var a51 = vec4<f32>();
  var a60 = vec4<f32>(); var a61 = vec4<f32>(); var a70 = vec4<f32>(); var a71 = vec4<f32>();
  if (TILE_FORM == TILE_REGISTERS) {
    for (var k = 0u; k < depth; k++) {
      // Loads first, then the multiply-adds row by row, both quads of a row together: the order of
      // the hand-written kernels this replaced, which lavapipe schedules best.
      let b0 = tile_b(operands, k, q0);
      var b1 = vec4<f32>();
      if (TILE_QUADS == 2u) {
        b1 = tile_b(operands, k, q1);
      }
      let a = tile_a(operands, rows, k);
      let lo = a[0];
      // With one quad, b1 is 0 and the a*1 sums are never read, so the compiler drops them.
      a00 += lo.x * b0; a01 += lo.x * b1; a10 += lo.y * b0; a11 += lo.y * b1;
      a20 += lo.z * b0; a21 += lo.z * b1; a30 += lo.w * b0; a31 += lo.w * b1;
      if (TILE_ROWS == 8u) {
        let hi = a[1];
        a40 += hi.x * b0; a41 += hi.x * b1; a50 += hi.y * b0; a51 += hi.y * b1;
        a60 += hi.z * b0; a61 += hi.z * b1; a70 += hi.w * b0; a71 += hi.w * b1;
      }
    }
  } else {
    // The other forms share A's columns between the lanes in chunks: each lane fetches one column
    // of the chunk (tile_chunk_fetch), and every lane then reads all of them (tile_chunk_column):
    // the same products summed in the same order as above, so every form gives the same bits.
    // q0 = column_block * TILE_LANES * TILE_QUADS + the lane's index in its workgroup.
    let lane = q0 % TILE_LANES;
    let chunk = tile_chunk_size();
    let rank = tile_chunk_rank(lane);
    for (var k0 = 0u; k0 < depth; k0 += chunk) {
      let mine = tile_chunk_fetch(operands, rows, min(k0 + rank, depth - 1u), lane);
      let count = min(chunk, depth - k0);
      for (var j = 0u; j < count; j++) {
        let k = k0 + j;
        let b0 = tile_b(operands, k, q0);
        var b1 = vec4<f32>();
        if (TILE_QUADS == 2u) {
          b1 = tile_b(operands, k, q1);
        }
        let a = tile_chunk_column(mine, j);
        let lo = a[0];
        a00 += lo.x * b0; a01 += lo.x * b1; a10 += lo.y * b0; a11 += lo.y * b1;
        a20 += lo.z * b0; a21 += lo.z * b1; a30 += lo.w * b0; a31 += lo.w * b1;
        if (TILE_ROWS == 8u) {
          let hi = a[1];
          a40 += hi.x * b0; a41 += hi.x * b1; a50 += hi.y * b0; a51 += hi.y * b1;
          a60 += hi.z * b0; a61 += hi.z * b1; a70 += hi.w * b0; a71 += hi.w * b1;
        }
      }
      tile_chunk_done();
    }
  }
  var sums: TileSums;
  sums[0] = array(a00, a01); sums[1] = array(a10, a11); sums[2] = array(a20, a21); sums[3] = array(a30, a31);
  sums[4] = array(a40, a41); sums[5] = array(a50, a51); sums[6] = array(a60, a61); sums[7] = array(a70, a71);
  return sums;
}
