// `node --import tsx bench/gemm_variants.ts [--shape M,N,K] [--rounds R]`: the GEMM forms tried for
// the dense kernels, C (M, N) = A (M, K) B (K, N), side by side in one run on this machine's adapter.
// The shipped form (shaders/dense.*.wgsl, shaders/tiles.wgsl) is "register 8x8, vec4 B"; the others
// lost and live only here. Rounds take turns across variants so that a change in the machine's load
// falls on all of them.
//
// Each line reports the median of the rounds: milliseconds of GPU time (timestamp queries) and
// GFLOP/s, and, on Linux, GFLOP per CPU-second of the adapter's worker threads (the process's
// threads but the main one). On a software adapter sharing its cores with other work the latter
// compares variants more steadily: it does not count the time the workers waited for a core.
import { readFileSync, readdirSync } from 'node:fs';
import { acquireDevice } from '../src/gpu/device';
import { spread } from './stats';

interface RegisterTile {
  /** Rows and columns of C per invocation (columns a multiple of 4 with vec4 B). */
  rows: number;
  cols: number;
  /** B read as vec4s of 4 consecutive columns (else one f32 per column, columns WG apart). */
  vec4B: boolean;
  /** A read from its transpose (K, M) as vec4s of 4 rows (else one f32 per row). */
  transposedA: boolean;
  /** k steps per loop iteration. */
  unroll: number;
}

interface Variant {
  name: string;
  code: string;
  grid: (m: number, n: number) => [number, number];
  transposedA?: boolean;
  textureB?: boolean;
}

const WG = 8;
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const [M, N, K] = option('--shape', '100,1200,1200').split(',').map(Number);
const rounds = Number(option('--rounds', '5'));
const ceil = (a: number, b: number) => Math.ceil(a / b);

const HEAD = `struct P { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
override WG: u32 = ${WG}u;`;

/** One invocation computes a rows x cols tile of C with named accumulators; lanes along n. */
function registerTile(t: RegisterTile): string {
  const groups = t.vec4B ? t.cols / 4 : t.cols;
  const L: string[] = [
    HEAD,
    `@group(0) @binding(0) var<storage, read> a: array<${t.transposedA ? 'vec4<f32>' : 'f32'}>;`,
    `@group(0) @binding(1) var<storage, read> b: array<${t.vec4B ? 'vec4<f32>' : 'f32'}>;`,
    `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ${t.rows}u;
  let n4 = p.n / 4u;
  let m4 = p.m / 4u;
  let base = wid.y * WG * ${groups}u;`,
  ];
  for (let g = 0; g < groups; g++)
    L.push(`  let col${g} = base + ${g}u * WG + lane; let cc${g} = min(col${g}, ${t.vec4B ? 'n4' : 'p.n'} - 1u);`);
  for (let i = 0; i < t.rows; i++) L.push(`  let ra${i} = min(row0 + ${i}u, p.m - 1u);`);
  const zero = t.vec4B ? 'vec4<f32>()' : '0.0';
  for (let i = 0; i < t.rows; i++)
    L.push('  ' + Array.from({ length: groups }, (_, g) => `var s${i}_${g} = ${zero};`).join(' '));
  L.push(`  for (var k = 0u; k + ${t.unroll - 1}u < p.k; k += ${t.unroll}u) {`);
  for (let u = 0; u < t.unroll; u++) {
    const kk = `(k + ${u}u)`;
    for (let g = 0; g < groups; g++) L.push(`    let b${u}_${g} = b[${kk} * ${t.vec4B ? 'n4' : 'p.n'} + cc${g}];`);
    for (let i = 0; i < t.rows; i++) {
      const a = t.transposedA
        ? `a[${kk} * m4 + min(row0 / 4u + ${Math.floor(i / 4)}u, m4 - 1u)][${i % 4}]`
        : `a[ra${i} * p.k + ${kk}]`;
      L.push(`    let a${u}_${i} = ${a};`);
      L.push('    ' + Array.from({ length: groups }, (_, g) => `s${i}_${g} += a${u}_${i} * b${u}_${g};`).join(' '));
    }
  }
  L.push('  }');
  for (let i = 0; i < t.rows; i++) {
    for (let g = 0; g < groups; g++) {
      if (t.vec4B)
        L.push(
          `  if (row0 + ${i}u < p.m && col${g} < n4) { for (var e = 0u; e < 4u; e++) { c[(row0 + ${i}u) * p.n + col${g} * 4u + e] = s${i}_${g}[e]; } }`,
        );
      else L.push(`  if (row0 + ${i}u < p.m && col${g} < p.n) { c[(row0 + ${i}u) * p.n + col${g}] = s${i}_${g}; }`);
    }
  }
  L.push('}');
  return L.join('\n');
}

/** Dot products along k: A (M, K) and B^T (N, K) both read as vec4s along k; scalar accumulators. */
function dotForm(rows: number, cols: number): string {
  const L: string[] = [
    HEAD,
    '@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;',
    '@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;',
    `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ${rows}u;
  let k4 = p.k / 4u;
  let base = wid.y * WG * ${cols}u;`,
  ];
  for (let j = 0; j < cols; j++)
    L.push(`  let col${j} = base + ${j}u * WG + lane; let cb${j} = min(col${j}, p.n - 1u) * k4;`);
  for (let i = 0; i < rows; i++) L.push(`  let ra${i} = min(row0 + ${i}u, p.m - 1u) * k4;`);
  for (let i = 0; i < rows; i++)
    L.push('  ' + Array.from({ length: cols }, (_, j) => `var s${i}_${j} = 0.0;`).join(' '));
  L.push('  for (var k = 0u; k < k4; k++) {');
  for (let j = 0; j < cols; j++) L.push(`    let b${j} = b[cb${j} + k];`);
  for (let i = 0; i < rows; i++) {
    L.push(`    let a${i} = a[ra${i} + k];`);
    L.push('    ' + Array.from({ length: cols }, (_, j) => `s${i}_${j} += dot(a${i}, b${j});`).join(' '));
  }
  L.push('  }');
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      L.push(`  if (row0 + ${i}u < p.m && col${j} < p.n) { c[(row0 + ${i}u) * p.n + col${j}] = s${i}_${j}; }`);
  L.push('}');
  return L.join('\n');
}

const file = (name: string) => readFileSync(new URL(`./variants/${name}.wgsl`, import.meta.url), 'utf8');

function tileVariant(name: string, t: RegisterTile): Variant {
  const colsPerGroup = t.cols * WG;
  return {
    name,
    code: registerTile(t),
    grid: (m, n) => [ceil(m, t.rows), ceil(n, colsPerGroup)],
    transposedA: t.transposedA,
  };
}

const variants: Variant[] = [
  tileVariant('register 4x16, scalar loads (previous kernels)', {
    rows: 4,
    cols: 16,
    vec4B: false,
    transposedA: false,
    unroll: 1,
  }),
  tileVariant('register 8x8, scalar loads', { rows: 8, cols: 8, vec4B: false, transposedA: false, unroll: 1 }),
  tileVariant('register 8x8, vec4 B (shipped)', { rows: 8, cols: 8, vec4B: true, transposedA: false, unroll: 1 }),
  tileVariant('register 8x8, vec4 B, k unrolled x4', { rows: 8, cols: 8, vec4B: true, transposedA: false, unroll: 4 }),
  tileVariant('register 8x8, vec4 A^T and B', { rows: 8, cols: 8, vec4B: true, transposedA: true, unroll: 1 }),
  tileVariant('register 12x12, vec4 B', { rows: 12, cols: 12, vec4B: true, transposedA: false, unroll: 1 }),
  tileVariant('register 16x16, vec4 A^T and B', { rows: 16, cols: 16, vec4B: true, transposedA: true, unroll: 1 }),
  { name: 'dot form 4x4 (A and B^T vec4 along k)', code: dotForm(4, 4), grid: (m, n) => [ceil(m, 4), ceil(n, 4 * WG)] },
  { name: 'workgroup-shared 64x64 tiles', code: file('shared_tiles'), grid: (m, n) => [ceil(m, 64), ceil(n, 64)] },
  {
    name: 'B as an rgba32float texture',
    code: file('texture_rhs'),
    grid: (m, n) => [ceil(m, 8), ceil(n, 64)],
    transposedA: true,
    textureB: true,
  },
];

/** CPU milliseconds of every thread of this process but the main one (Linux), else NaN. */
function workerCpuMs(): number {
  try {
    let ns = 0;
    for (const task of readdirSync('/proc/self/task')) {
      if (Number(task) === process.pid) continue;
      ns += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  if (K % 4 || N % 4 || M % 4) throw new Error('--shape: the vec4 variants need M, N and K multiples of 4');
  const { device, adapterName } = await acquireDevice();
  if (!device.features.has('timestamp-query')) throw new Error('this bench needs timestamp queries');
  const random = (n: number): Float32Array<ArrayBuffer> => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const a = random(M * K);
  const b = random(K * N);
  const aT = new Float32Array(M * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) aT[k * M + i] = a[i * K + k];
  const expected = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) expected[i * N + j] += a[i * K + k] * b[k * N + j];
  const storage = (data: Float32Array<ArrayBuffer> | number) => {
    const buffer = device.createBuffer({
      size: typeof data === 'number' ? data : data.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const buffers = { a: storage(a), aT: storage(aT), b: storage(b), c: storage(M * N * 4) };
  const textureB = device.createTexture({
    size: [N / 4, K],
    format: 'rgba32float',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture: textureB }, b, { bytesPerRow: N * 4 }, [N / 4, K]);
  const bT = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j];
  const bTBuffer = storage(bT);
  const uniform = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, new Uint32Array([M, N, K, 0]));
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });

  const built: {
    v: Variant;
    pipeline: GPUComputePipeline;
    bindGroup: GPUBindGroup;
    repeats: number;
    ms: number[];
    cpu: number[];
    error: number;
  }[] = [];
  for (const v of variants) {
    const module = device.createShaderModule({ label: v.name, code: v.code });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    if (errors.length) throw new Error(`${v.name}: ${errors.map((e) => `${e.lineNum}: ${e.message}`).join('; ')}`);
    const pipeline = await device.createComputePipelineAsync({
      label: v.name,
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const rhs = v.textureB ? textureB.createView() : { buffer: v.name.startsWith('dot') ? bTBuffer : buffers.b };
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: v.transposedA ? buffers.aT : buffers.a } },
        { binding: 1, resource: rhs },
        { binding: 2, resource: { buffer: buffers.c } },
        { binding: 3, resource: { buffer: uniform } },
      ],
    });
    built.push({ v, pipeline, bindGroup, repeats: 1, ms: [] as number[], cpu: [] as number[], error: 0 });
  }

  /** One submission of `repeats` dispatches: GPU milliseconds per dispatch and worker CPU ms per dispatch. */
  const run = async (x: (typeof built)[number], expectedMs: number) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
    pass.setPipeline(x.pipeline);
    pass.setBindGroup(0, x.bindGroup);
    const [gx, gy] = x.v.grid(M, N);
    for (let r = 0; r < x.repeats; r++) pass.dispatchWorkgroups(gx, gy);
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16);
    const cpuBefore = workerCpuMs();
    device.queue.submit([encoder.finish()]);
    // Dawn's Node binding busy-polls a core while a promise is pending: sleep through most of it.
    if (expectedMs > 2) await sleep(0.85 * expectedMs);
    await readback.mapAsync(GPUMapMode.READ);
    const cpu = (workerCpuMs() - cpuBefore) / x.repeats;
    const [begin, end] = new BigUint64Array(readback.getMappedRange());
    readback.unmap();
    readback.destroy();
    return { ms: Number(end - begin) / 1e6 / x.repeats, cpu };
  };

  for (const x of built) {
    device.queue.writeBuffer(buffers.c, 0, new Float32Array(M * N));
    const first = await run(x, 0);
    const readback = device.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffers.c, 0, readback, 0, M * N * 4);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const c = new Float32Array(readback.getMappedRange().slice(0));
    readback.destroy();
    x.error = c.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected[i])), 0);
    x.repeats = Math.max(1, Math.round(150 / first.ms));
  }
  for (let r = 0; r < rounds; r++) {
    for (const x of built) {
      const { ms, cpu } = await run(x, x.repeats * (x.ms.length ? spread(x.ms).median : 0));
      x.ms.push(ms);
      x.cpu.push(cpu);
    }
  }
  const flops = 2 * M * N * K;
  for (const x of built) {
    const ms = spread(x.ms).median;
    const cpu = spread(x.cpu).median;
    console.log(
      JSON.stringify({
        variant: x.v.name,
        m: M,
        n: N,
        k: K,
        ms: +ms.toFixed(2),
        gflops: +(flops / ms / 1e6).toFixed(2),
        gflop_per_cpu_s: Number.isFinite(cpu) ? +(flops / cpu / 1e6).toFixed(2) : null,
        max_abs_error: +x.error.toExponential(2),
        adapter: adapterName,
      }),
    );
  }
}

await main();
process.exit(0);
