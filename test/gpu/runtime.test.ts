// The runtime's promises: errors that name the file, line, binding or limit; the async readback
// ring; GPU timestamps where the adapter has them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { acquireDevice, GpuUnavailableError, DeviceLimitError } from '../../src/gpu/device';
import { ReadbackRing } from '../../src/gpu/readback';
import { Runtime } from '../../src/gpu/runtime';
import { GpuTimer } from '../../src/gpu/timer';
import { readShaderFile } from '../../src/gpu/shader-files-node';
import { gpu } from '../helpers';

// Line 7 of this file is broken: a missing semicolon and an undeclared identifier.
const brokenShader = `// A deliberately broken kernel.
@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1)
fn main() {
  let value = 1.0;
  out[0] = value * undeclared_thing;
}
`;

const copyShader = `struct Params { count: u32, factor: f32 }
@group(0) @binding(0) var<storage, read> source: array<f32>;
@group(0) @binding(1) var<storage, read_write> destination: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;
override WORKGROUP: u32 = 8u;
@compute @workgroup_size(WORKGROUP)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < params.count) { destination[gid.x] = source[gid.x] * params.factor; }
}
`;

function runtimeWith(files: Record<string, string>, rt: Runtime): Runtime {
  return new Runtime(rt.context, (name) => files[name] ?? readShaderFile(name));
}

test('a broken shader is reported with its file name and line', async () => {
  const { rt } = await gpu();
  const custom = runtimeWith({ broken: brokenShader }, rt);
  await assert.rejects(custom.pipeline('broken', 'main'), (err: Error) => {
    assert.match(err.message, /shaders\/broken\.wgsl:7:\d+: error: .*undeclared_thing/);
    return true;
  });
});

test('bindings the wrapper declares must match the shader', async () => {
  const { rt } = await gpu();
  const custom = runtimeWith({ copy: copyShader }, rt);
  const source = custom.upload('source', new Float32Array([1, 2, 3]));
  const destination = custom.createBuffer('destination', 12);
  const spec = { shader: 'copy', entry: 'scale', params: { count: 3, factor: 2 }, workgroups: [1] as [number] };
  await assert.rejects(
    custom.dispatch({ ...spec, buffers: { source } }),
    /binding 'destination' .* was not given a buffer/,
  );
  await assert.rejects(
    custom.dispatch({ ...spec, buffers: { source, destination, extra: destination } }),
    /binds 'extra', which the shader's entry point does not use/,
  );
  await assert.rejects(
    custom.dispatch({ ...spec, buffers: { source, destination }, params: { count: 3 } }),
    /parameter 'factor' is missing/,
  );
  await assert.rejects(
    custom.dispatch({ ...spec, buffers: { source, destination }, params: { count: 3, factor: 2, speed: 1 } }),
    /unknown parameter 'speed'/,
  );
  await assert.rejects(
    custom.dispatch({ ...spec, buffers: { source, destination }, constants: { TILE: 4 } }),
    /no override constant 'TILE'/,
  );
  await assert.rejects(
    custom.dispatch({ ...spec, entry: 'nope', buffers: { source, destination } }),
    /no compute entry point 'nope' \(it has: scale\)/,
  );
  await assert.rejects(
    custom.dispatch({
      ...spec,
      buffers: { source, destination },
      workgroups: [rt.limits.maxComputeWorkgroupsPerDimension + 1],
    }),
    /maxComputeWorkgroupsPerDimension/,
  );
  const dispatch = await custom.dispatch({ ...spec, buffers: { source, destination }, constants: { WORKGROUP: 4 } });
  custom.run([dispatch]);
  assert.deepEqual(await custom.readF32(destination, 3), new Float32Array([2, 4, 6]));
  dispatch.writeParams({ count: 2, factor: -1 });
  custom.run([dispatch]);
  assert.deepEqual(await custom.readF32(destination, 3), new Float32Array([-1, -2, 6]));
});

test('the pipeline cache returns one pipeline per shader, entry and constants', async () => {
  const { rt } = await gpu();
  const custom = runtimeWith({ copy: copyShader }, rt);
  const a = await custom.pipeline('copy', 'scale', { WORKGROUP: 4 });
  assert.equal(await custom.pipeline('copy', 'scale', { WORKGROUP: 4 }), a);
  assert.notEqual(await custom.pipeline('copy', 'scale', { WORKGROUP: 8 }), a);
});

test('a buffer or a model beyond the device limits is refused by name', async () => {
  const { rt } = await gpu();
  assert.throws(
    () => rt.createBuffer('huge.weight', rt.limits.maxStorageBufferBindingSize + 16),
    /huge\.weight.*maxStorageBufferBindingSize|huge\.weight.*maxBufferSize/,
  );
  await assert.rejects(acquireDevice({ requiredLimits: { maxStorageBufferBindingSize: 2 ** 52 } }), (err: Error) => {
    assert.ok(err instanceof DeviceLimitError);
    assert.match(err.message, /maxStorageBufferBindingSize = \d+, but the adapter .* offers \d+/);
    return true;
  });
});

test('an adapter that does not exist fails with a message that says what is there', async () => {
  await assert.rejects(acquireDevice({ adapter: 'no-such-adapter-anywhere' }), (err: Error) => {
    assert.ok(err instanceof GpuUnavailableError);
    assert.match(err.message, /No WebGPU adapter matches 'no-such-adapter-anywhere'/);
    return true;
  });
});

test('the readback ring returns copies in order without waiting, and refuses when full', async () => {
  const { rt } = await gpu();
  const source = rt.createBuffer('ring.source', 16);
  const ring = new ReadbackRing(rt.device, 16, 2, 'ring');
  const copies: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    rt.device.queue.writeBuffer(source, 0, new Float32Array([i, i + 1, i + 2, i + 3]));
    const encoder = rt.device.createCommandEncoder();
    copies.push(ring.copy(encoder, source, 100 + i));
    rt.device.queue.submit([encoder.finish()]);
    ring.submitted();
  }
  assert.deepEqual(copies, [true, true, false], 'the third copy finds both slots in flight');
  const arrived: number[][] = [];
  for (let tries = 0; tries < 200 && arrived.length < 2; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const { tag, data } of ring.drain()) arrived.push([tag, ...new Float32Array(data)]);
  }
  assert.deepEqual(arrived, [
    [100, 0, 1, 2, 3],
    [101, 1, 2, 3, 4],
  ]);
  assert.equal(ring.inFlight, 0);
  ring.destroy();
});

test('GPU timestamps measure a pass where the adapter has them', async (t) => {
  const { rt } = await gpu();
  const timer = GpuTimer.create(rt.device);
  if (!timer) {
    assert.ok(!rt.device.features.has('timestamp-query'));
    t.diagnostic('adapter without timestamp-query: GpuTimer.create returned undefined, as documented');
    return;
  }
  const custom = runtimeWith({ copy: copyShader }, rt);
  const n = 1 << 16;
  const source = custom.upload('timed.source', new Float32Array(n).fill(1));
  const destination = custom.createBuffer('timed.destination', n * 4);
  const dispatch = await custom.dispatch({
    shader: 'copy',
    entry: 'scale',
    buffers: { source, destination },
    params: { count: n, factor: 3 },
    workgroups: [n / 8],
  });
  const encoder = rt.device.createCommandEncoder();
  const pass = encoder.beginComputePass({ timestampWrites: timer.pass('scale') });
  dispatch.record(pass);
  pass.end();
  assert.ok(timer.resolve(encoder, 1));
  rt.device.queue.submit([encoder.finish()]);
  timer.submitted();
  let result: { tag: number; milliseconds: Record<string, number> }[] = [];
  for (let tries = 0; tries < 200 && result.length === 0; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    result = timer.drain();
  }
  assert.equal(result.length, 1);
  assert.equal(result[0].tag, 1);
  // A number of milliseconds, whatever it is: a quantised clock may read 0 for a short pass.
  assert.ok(
    Number.isFinite(result[0].milliseconds.scale) && result[0].milliseconds.scale >= 0,
    `scale: ${result[0].milliseconds.scale}`,
  );
});

test("without any Vulkan driver, a GPU test fails with the runtime's message instead of skipping", () => {
  const probe = `import { gpu } from './test/helpers';\nawait gpu();`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/no-driver.json' },
    encoding: 'utf8',
  });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /No WebGPU adapter was found\. On Linux without a GPU, install a software Vulkan driver/);
});
