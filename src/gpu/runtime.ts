// The GPU runtime every kernel wrapper uses: shader modules and pipelines cached by shader, entry and
// override constants; explicit layouts derived from the shader's reflection; dispatches that bind
// buffers by the names the WGSL gives them and are recorded again and again without new objects.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { readShaderFile } from '#shader-files';
import type { GpuContext } from './device';
import {
  assembleShader,
  compileModule,
  packUniform,
  reflectEntry,
  uniformLayout,
  ShaderCompileError,
  type BindingInfo,
  type EntryReflection,
  type ShaderSource,
  type UniformLayout,
} from './shaders';

export type Constants = Record<string, number>;

export interface CompiledEntry {
  pipeline: GPUComputePipeline;
  reflection: EntryReflection;
  groupLayouts: GPUBindGroupLayout[];
  label: string;
}

/** A render pipeline: a vertex and a fragment entry point of one shader, drawing into one format. */
export interface RenderPipelineSpec {
  shader: string;
  vertex: string;
  fragment: string;
  format: GPUTextureFormat;
  topology?: GPUPrimitiveTopology;
  blend?: GPUBlendState;
  constants?: Constants;
}

export interface CompiledRender {
  pipeline: GPURenderPipeline;
  /** The resources either stage uses, by group and binding. */
  bindings: BindingInfo[];
  groupLayouts: GPUBindGroupLayout[];
  label: string;
}

/** A buffer bound whole, or a byte range of it. */
export type BufferBinding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface DispatchSpec {
  shader: string;
  entry: string;
  constants?: Constants;
  /** Every resource the entry point uses, by its WGSL name. A uniform may be given as a buffer. */
  buffers: Record<string, BufferBinding>;
  /** Values for the `params` uniform struct, when the entry point uses one and no buffer is given. */
  params?: Record<string, number>;
  workgroups: [number, number?, number?];
}

export const PARAMS_BINDING = 'params';

// wgsl_reflect's ResourceType values (its enum is declared in its types only), as src/gpu/shaders.ts reads them.
const RESOURCE_UNIFORM = 0;
const RESOURCE_STORAGE = 1;

export function ceilDiv(n: number, d: number): number {
  return Math.floor((n + d - 1) / d);
}

/** The one place that turns a problem size into a dispatch size. */
export function workgroupCount(items: number, perWorkgroup: number): number {
  return Math.max(1, ceilDiv(items, perWorkgroup));
}

export class Dispatch {
  constructor(
    readonly label: string,
    readonly pipeline: GPUComputePipeline,
    readonly bindGroups: GPUBindGroup[],
    readonly workgroups: [number, number, number],
    /** The params uniform this dispatch owns, if it created one, and its layout. */
    readonly params: { buffer: GPUBuffer; layout: UniformLayout } | undefined,
    private readonly device: GPUDevice,
  ) {}

  record(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    for (let i = 0; i < this.bindGroups.length; i++) pass.setBindGroup(i, this.bindGroups[i]);
    pass.dispatchWorkgroups(this.workgroups[0], this.workgroups[1], this.workgroups[2]);
  }

  /** Rewrites the params uniform (outside the hot path: plans write their uniforms once). */
  writeParams(values: Record<string, number>): void {
    if (!this.params) throw new Error(`${this.label}: this dispatch has no params uniform of its own.`);
    this.device.queue.writeBuffer(this.params.buffer, 0, packUniform(this.params.layout, values, this.label));
  }
}

/** A uniform struct buffer shared by several dispatches and rewritten by name (schedules, clocks). */
export class UniformBlock {
  /** Reused by every write: schedules rewrite the block each iteration without allocating. */
  private readonly staging: ArrayBuffer;

  constructor(
    readonly buffer: GPUBuffer,
    readonly layout: UniformLayout,
    private readonly device: GPUDevice,
  ) {
    this.staging = new ArrayBuffer(layout.size);
  }

  write(values: Record<string, number>): void {
    this.device.queue.writeBuffer(this.buffer, 0, packUniform(this.layout, values, this.buffer.label, this.staging));
  }
}

export class Runtime {
  readonly device: GPUDevice;
  private readonly sources = new Map<string, { source: ShaderSource; reflection: WgslReflect }>();
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly pipelines = new Map<string, Promise<CompiledEntry>>();
  private readonly renderPipelines = new Map<string, Promise<CompiledRender>>();

  /** `readShader` exists for tests that compile a shader of their own; it defaults to shaders/. */
  constructor(
    readonly context: GpuContext,
    private readonly readShader: (name: string) => string = readShaderFile,
  ) {
    this.device = context.device;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  private sourceOf(shader: string) {
    let entry = this.sources.get(shader);
    if (!entry) {
      const source = assembleShader(shader, this.readShader);
      let reflection: WgslReflect;
      try {
        reflection = new WgslReflect(source.code);
      } catch (err) {
        throw new ShaderCompileError(
          `Shader '${shader}' could not be parsed for reflection: ${(err as Error).message}`,
        );
      }
      entry = { source, reflection };
      this.sources.set(shader, entry);
    }
    return entry;
  }

  module(shader: string): Promise<GPUShaderModule> {
    let module = this.modules.get(shader);
    if (!module) {
      module = compileModule(this.device, this.sourceOf(shader).source);
      this.modules.set(shader, module);
      module.catch(() => this.modules.delete(shader));
    }
    return module;
  }

  /** A compute pipeline, cached by shader, entry point and override constants. */
  pipeline(shader: string, entry: string, constants: Constants = {}): Promise<CompiledEntry> {
    const key = `${shader}:${entry}:${JSON.stringify(Object.entries(constants).sort())}`;
    let compiled = this.pipelines.get(key);
    if (!compiled) {
      compiled = this.createPipeline(shader, entry, constants);
      this.pipelines.set(key, compiled);
      compiled.catch(() => this.pipelines.delete(key));
    }
    return compiled;
  }

  private async createPipeline(shader: string, entry: string, constants: Constants): Promise<CompiledEntry> {
    const { source, reflection } = this.sourceOf(shader);
    const entryReflection = reflectEntry(source, reflection, entry);
    for (const name of Object.keys(constants)) {
      if (!entryReflection.overrides.includes(name)) {
        throw new ShaderCompileError(
          `Shader '${shader}' has no override constant '${name}' (it has: ${entryReflection.overrides.join(', ') || 'none'}).`,
        );
      }
    }
    const module = await this.module(shader);
    // A GEMM tile's form (dense.forward+workgroup) is the same kernel: profiles and tests name it as one.
    const label = `${shader.split('+')[0]}.${entry}`;
    const groupCount = Math.max(0, ...entryReflection.bindings.map((b) => b.group + 1));
    const groupLayouts: GPUBindGroupLayout[] = [];
    for (let group = 0; group < groupCount; group++) {
      groupLayouts.push(
        this.device.createBindGroupLayout({
          label: `${label}.group${group}`,
          entries: entryReflection.bindings
            .filter((b) => b.group === group)
            .map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.kind } })),
        }),
      );
    }
    this.device.pushErrorScope('validation');
    const pipeline = await this.device
      .createComputePipelineAsync({
        label,
        layout: this.device.createPipelineLayout({ label, bindGroupLayouts: groupLayouts }),
        compute: { module, entryPoint: entry, constants },
      })
      .catch((err: Error) => err);
    const scopeError = await this.device.popErrorScope();
    if (pipeline instanceof Error || scopeError) {
      const message = pipeline instanceof Error ? pipeline.message : scopeError!.message;
      throw new ShaderCompileError(
        `Pipeline '${label}' with constants ${JSON.stringify(constants)} failed: ${message}`,
      );
    }
    return { pipeline, reflection: entryReflection, groupLayouts, label };
  }

  /**
   * A render pipeline, cached like compute pipelines: by shader, entry points, target format,
   * topology, blend state and override constants.
   */
  renderPipeline(spec: RenderPipelineSpec): Promise<CompiledRender> {
    const { shader, vertex, fragment, format, topology = 'triangle-list', blend, constants = {} } = spec;
    const key = `${shader}:${vertex}:${fragment}:${format}:${topology}:${JSON.stringify(blend ?? null)}:${JSON.stringify(Object.entries(constants).sort())}`;
    let compiled = this.renderPipelines.get(key);
    if (!compiled) {
      compiled = this.createRenderPipeline({ shader, vertex, fragment, format, topology, blend, constants });
      this.renderPipelines.set(key, compiled);
      compiled.catch(() => this.renderPipelines.delete(key));
    }
    return compiled;
  }

  private async createRenderPipeline(
    spec: Required<Omit<RenderPipelineSpec, 'blend'>> & { blend?: GPUBlendState },
  ): Promise<CompiledRender> {
    const { shader, vertex, fragment, format, topology, blend, constants } = spec;
    const { reflection } = this.sourceOf(shader);
    const label = `${shader}.${fragment}`;
    const stage = (kind: 'vertex' | 'fragment', name: string) => {
      const fn = reflection.entry[kind].find((f) => f.name === name);
      if (!fn)
        throw new ShaderCompileError(
          `Shader '${shader}' has no ${kind} entry point '${name}' (it has: ${reflection.entry[kind].map((f) => f.name).join(', ') || 'none'}).`,
        );
      return fn;
    };
    const overrides = reflection.overrides.map((o) => o.name);
    for (const name of Object.keys(constants)) {
      if (!overrides.includes(name))
        throw new ShaderCompileError(
          `Shader '${shader}' has no override constant '${name}' (it has: ${overrides.join(', ') || 'none'}).`,
        );
    }
    const bindings = new Map<string, BindingInfo>();
    for (const variable of [...stage('vertex', vertex).resources, ...stage('fragment', fragment).resources]) {
      const type = variable.resourceType as number;
      const kind =
        type === RESOURCE_UNIFORM
          ? 'uniform'
          : type === RESOURCE_STORAGE && variable.access === 'read'
            ? 'read-only-storage'
            : undefined;
      if (!kind)
        throw new ShaderCompileError(
          `Shader '${shader}' binding '${variable.name}': render pipelines read uniforms and read-only storage buffers only.`,
        );
      bindings.set(variable.name, {
        name: variable.name,
        group: variable.group,
        binding: variable.binding,
        kind,
        variable,
      });
    }
    const sorted = [...bindings.values()].sort((a, b) => a.group - b.group || a.binding - b.binding);
    // Both stages see every binding, so the layouts of one shader's pipelines are equal and a bind
    // group made for one of them serves the others (and every target format).
    const visibility = GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT;
    const groupLayouts = Array.from({ length: Math.max(0, ...sorted.map((b) => b.group + 1)) }, (_, group) =>
      this.device.createBindGroupLayout({
        label: `${label}.group${group}`,
        entries: sorted
          .filter((b) => b.group === group)
          .map((b) => ({ binding: b.binding, visibility, buffer: { type: b.kind } })),
      }),
    );
    const module = await this.module(shader);
    this.device.pushErrorScope('validation');
    const pipeline = await this.device
      .createRenderPipelineAsync({
        label,
        layout: this.device.createPipelineLayout({ label, bindGroupLayouts: groupLayouts }),
        vertex: { module, entryPoint: vertex, constants },
        fragment: { module, entryPoint: fragment, constants, targets: [{ format, ...(blend && { blend }) }] },
        primitive: { topology },
      })
      .catch((err: Error) => err);
    const scopeError = await this.device.popErrorScope();
    if (pipeline instanceof Error || scopeError) {
      const message = pipeline instanceof Error ? pipeline.message : scopeError!.message;
      throw new ShaderCompileError(
        `Render pipeline '${label}' (${vertex}, ${format}) with constants ${JSON.stringify(constants)} failed: ${message}`,
      );
    }
    return { pipeline, bindings: sorted, groupLayouts, label };
  }

  /**
   * One bind group of a render pipeline, its buffers given by their WGSL names and checked against
   * the shader's bindings (made when a view is built, never per frame).
   */
  renderBindGroup(
    compiled: CompiledRender,
    group: number,
    buffers: Record<string, BufferBinding>,
    label = `${compiled.label}.group${group}`,
  ): GPUBindGroup {
    const wanted = compiled.bindings.filter((b) => b.group === group);
    for (const name of Object.keys(buffers)) {
      if (!wanted.some((b) => b.name === name))
        throw new Error(
          `${compiled.label}: group ${group} has no binding '${name}' (it has ${wanted.map((b) => b.name).join(', ') || 'none'}).`,
        );
    }
    return this.device.createBindGroup({
      label,
      layout: compiled.groupLayouts[group],
      entries: wanted.map((b) => {
        const r = buffers[b.name];
        if (!r)
          throw new Error(
            `${compiled.label}: binding '${b.name}' (group ${group}, binding ${b.binding}) was not given a buffer.`,
          );
        return { binding: b.binding, resource: 'buffer' in r ? r : { buffer: r } };
      }),
    });
  }

  /**
   * A uniform buffer laid out like the struct an entry point binds as `name`, for callers that share
   * one uniform between dispatches (bind it through `buffers`).
   */
  async uniformBlock(
    shader: string,
    entry: string,
    name: string,
    values: Record<string, number>,
  ): Promise<UniformBlock> {
    const { reflection, label } = await this.pipeline(shader, entry);
    const binding = reflection.bindings.find((b) => b.name === name && b.kind === 'uniform');
    if (!binding) throw new Error(`${label} has no uniform named '${name}'.`);
    const layout = uniformLayout(binding);
    const buffer = this.device.createBuffer({
      label: `${label}.${name}`,
      size: layout.size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const block = new UniformBlock(buffer, layout, this.device);
    block.write(values);
    return block;
  }

  /** Builds a reusable dispatch: checks the given buffers against the shader's bindings by name. */
  async dispatch(spec: DispatchSpec): Promise<Dispatch> {
    const compiled = await this.pipeline(spec.shader, spec.entry, spec.constants);
    const { reflection, label } = compiled;
    const used = new Set(reflection.bindings.map((b) => b.name));
    for (const name of Object.keys(spec.buffers)) {
      if (!used.has(name)) {
        throw new Error(
          `${label}: the wrapper binds '${name}', which the shader's entry point does not use (it uses ${[...used].join(', ')}).`,
        );
      }
    }
    let ownParams: Dispatch['params'];
    const resources = new Map<string, BufferBinding>();
    for (const binding of reflection.bindings) {
      let resource = spec.buffers[binding.name];
      if (!resource && binding.kind === 'uniform' && binding.name === PARAMS_BINDING && spec.params) {
        const layout = uniformLayout(binding);
        const buffer = this.device.createBuffer({
          label: `${label}.${binding.name}`,
          size: layout.size,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        this.device.queue.writeBuffer(buffer, 0, packUniform(layout, spec.params, label));
        ownParams = { buffer, layout };
        resource = buffer;
      }
      if (!resource)
        throw new Error(
          `${label}: binding '${binding.name}' (group ${binding.group}, binding ${binding.binding}) was not given a buffer.`,
        );
      resources.set(binding.name, resource);
    }
    if (spec.params && !ownParams)
      throw new Error(
        `${label}: params were given but the entry point has no '${PARAMS_BINDING}' uniform, or a buffer was bound for it too.`,
      );
    const bindGroups = compiled.groupLayouts.map((layout, group) =>
      this.device.createBindGroup({
        label: `${label}.group${group}`,
        layout,
        entries: reflection.bindings
          .filter((b) => b.group === group)
          .map((b) => {
            const r = resources.get(b.name)!;
            return { binding: b.binding, resource: 'buffer' in r ? r : { buffer: r } };
          }),
      }),
    );
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    const workgroups: [number, number, number] = [spec.workgroups[0], spec.workgroups[1] ?? 1, spec.workgroups[2] ?? 1];
    workgroups.forEach((count, axis) => {
      if (count > maxGroups) {
        throw new Error(
          `${label}: ${count} workgroups along axis ${'xyz'[axis]} exceed the device limit maxComputeWorkgroupsPerDimension = ${maxGroups}.`,
        );
      }
    });
    return new Dispatch(label, compiled.pipeline, bindGroups, workgroups, ownParams, this.device);
  }

  createBuffer(label: string, bytes: number, usage: number = GPUBufferUsage.STORAGE): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    for (const [limit, value] of [
      ['maxBufferSize', this.limits.maxBufferSize],
      ['maxStorageBufferBindingSize', this.limits.maxStorageBufferBindingSize],
    ] as const) {
      if (usage & GPUBufferUsage.STORAGE && size > value) {
        throw new Error(`Buffer '${label}' needs ${size} bytes, more than the device limit ${limit} = ${value}.`);
      }
    }
    return this.device.createBuffer({ label, size, usage: usage | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  }

  /** A storage buffer holding `data` (f32, u32 or i32 elements). */
  upload(
    label: string,
    data: Float32Array | Uint32Array | Int32Array,
    usage: number = GPUBufferUsage.STORAGE,
  ): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength, usage);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Records one compute pass of the given dispatches and submits it (tests and one-off work). */
  run(dispatches: Dispatch[], label = 'run'): void {
    const encoder = this.device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    for (const d of dispatches) d.record(pass);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** Copies a buffer out and waits for it: for tests and checkpoints, never inside the training loop. */
  async read(buffer: GPUBuffer, bytes = buffer.size, offset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      label: `${buffer.label}.readback`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  async readF32(buffer: GPUBuffer, count?: number): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count === undefined ? buffer.size : count * 4));
  }

  async readU32(buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, count === undefined ? buffer.size : count * 4));
  }
}
