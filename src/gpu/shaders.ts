// Shader loading: the shared prelude (RNG, activations) prepended to a kernel file, reflection with
// wgsl_reflect to derive explicit bind-group layouts and uniform layouts, and compilation errors
// mapped back to the file and line a person edits.
import { WgslReflect, type FunctionInfo, type VariableInfo } from 'wgsl_reflect/wgsl_reflect.module.js';
import { readShaderFile } from '#shader-files';

/** Shared WGSL prepended, in this order, to every kernel file. */
export const PRELUDE_FILES = ['rng', 'activations'] as const;

/** Shared WGSL that only some kernels use, prepended after the prelude: the GEMM tile of every product, in its registers form. */
export const KERNEL_INCLUDES: Record<string, string[]> = {
  'dense.forward': ['tiles', 'tiles.registers'],
  'dense.backward': ['tiles', 'tiles.registers'],
  parzen: ['tiles', 'tiles.registers'],
};

/**
 * The files of a kernel: `base+form` (dense.forward+workgroup) is kernel `base` with the GEMM tile's
 * form shaders/tiles.<form>.wgsl in place of tiles.registers.wgsl (shaders/tiles.wgsl says why
 * there are forms; src/kernels/tiles.ts chooses among them).
 */
export function kernelFiles(name: string): string[] {
  const [base, form] = name.split('+');
  const includes = KERNEL_INCLUDES[base] ?? [];
  if (form !== undefined && !includes.includes('tiles.registers'))
    throw new Error(`Shader '${base}' has no GEMM tile, so no form '${form}'.`);
  return [
    ...PRELUDE_FILES,
    ...includes.map((file) => (form !== undefined && file === 'tiles.registers' ? `tiles.${form}` : file)),
    base,
  ];
}

// WGSL wants enable and diagnostic directives before every declaration, so a directive in an
// included file (the subgroup form's `enable subgroups;`) moves to the top of the module.
const DIRECTIVE = /^(enable|requires|diagnostic)\b[^;]*;[ \t]*$/gm;

export interface ShaderSource {
  name: string;
  code: string;
  /** Where each file starts in `code` (0-based line), to map a message back to its file. */
  segments: { file: string; firstLine: number; lineCount: number }[];
}

export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
}

export function assembleShader(name: string, read: (file: string) => string = readShaderFile): ShaderSource {
  const segments: ShaderSource['segments'] = [];
  const parts: string[] = [];
  const files = kernelFiles(name);
  const texts = files.map((file) => read(file).replace(/\s*$/, '\n'));
  const directives = texts.flatMap((text) => text.match(DIRECTIVE) ?? []);
  let line = 0;
  if (directives.length > 0) {
    // Left as comments where they were, so that every file keeps its line numbers.
    segments.push({ file: 'shaders/(directives of the included files)', firstLine: 0, lineCount: directives.length });
    parts.push(directives.map((d) => `${d}\n`).join(''));
    line = directives.length;
  }
  for (const [i, file] of files.entries()) {
    const text = texts[i].replace(DIRECTIVE, (d) => `// ${d}`);
    const lineCount = text.split('\n').length - 1;
    segments.push({ file: `shaders/${file}.wgsl`, firstLine: line, lineCount });
    parts.push(text);
    line += lineCount;
  }
  return { name, code: parts.join(''), segments };
}

/** Maps a 1-based line of the assembled code to "shaders/file.wgsl:line". */
export function sourceLocation(source: ShaderSource, lineNum: number, linePos = 0): string {
  const zeroBased = lineNum - 1;
  const segment = source.segments.find((s) => zeroBased >= s.firstLine && zeroBased < s.firstLine + s.lineCount);
  const where = segment
    ? `${segment.file}:${zeroBased - segment.firstLine + 1}`
    : `shaders/${source.name}.wgsl (line ${lineNum} of the assembled module)`;
  return linePos > 0 ? `${where}:${linePos}` : where;
}

export async function compileModule(device: GPUDevice, source: ShaderSource): Promise<GPUShaderModule> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: source.name, code: source.code });
  const info = await module.getCompilationInfo();
  const scopeError = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = errors.map((m) => `${sourceLocation(source, m.lineNum, m.linePos)}: error: ${m.message}`);
    throw new ShaderCompileError(`WGSL compilation failed for shader '${source.name}':\n${lines.join('\n')}`);
  }
  if (scopeError) throw new ShaderCompileError(`Shader '${source.name}': ${scopeError.message}`);
  return module;
}

// wgsl_reflect declares its ResourceType enum in its types but does not export it at run time.
const RESOURCE_UNIFORM = 0;
const RESOURCE_STORAGE = 1;

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: 'uniform' | 'read-only-storage' | 'storage';
  variable: VariableInfo;
}

export interface EntryReflection {
  entry: string;
  workgroupSize: [number, number, number] | null;
  bindings: BindingInfo[];
  overrides: string[];
}

export function reflectEntry(source: ShaderSource, reflection: WgslReflect, entry: string): EntryReflection {
  const fn: FunctionInfo | undefined = reflection.entry.compute.find((f) => f.name === entry);
  if (!fn) {
    const known = reflection.entry.compute.map((f) => f.name).join(', ');
    throw new ShaderCompileError(
      `Shader '${source.name}' has no compute entry point '${entry}' (it has: ${known || 'none'}).`,
    );
  }
  const bindings = fn.resources.map((variable): BindingInfo => {
    let kind: BindingInfo['kind'];
    if ((variable.resourceType as number) === RESOURCE_UNIFORM) kind = 'uniform';
    else if ((variable.resourceType as number) === RESOURCE_STORAGE)
      kind = variable.access === 'read' ? 'read-only-storage' : 'storage';
    else
      throw new ShaderCompileError(
        `Shader '${source.name}' binding '${variable.name}': only buffers are supported in compute kernels.`,
      );
    return { name: variable.name, group: variable.group, binding: variable.binding, kind, variable };
  });
  bindings.sort((a, b) => a.group - b.group || a.binding - b.binding);
  return {
    entry,
    workgroupSize: fn.workgroupSize,
    bindings,
    overrides: reflection.overrides.map((o) => o.name),
  };
}

/** Byte layout of a uniform struct, by member name, from reflection. */
export interface UniformLayout {
  size: number;
  members: { name: string; offset: number; type: 'f32' | 'u32' | 'i32' }[];
}

export function uniformLayout(binding: BindingInfo): UniformLayout {
  const members = binding.variable.members;
  if (!members) throw new ShaderCompileError(`Uniform '${binding.name}' must be a struct.`);
  return {
    size: Math.ceil(binding.variable.size / 16) * 16,
    members: members.map((m) => {
      const type = m.type.name;
      if (type !== 'f32' && type !== 'u32' && type !== 'i32') {
        throw new ShaderCompileError(
          `Uniform '${binding.name}.${m.name}' has type ${type}; params structs hold scalars only.`,
        );
      }
      return { name: m.name, offset: m.offset, type };
    }),
  };
}

/** Packs `values` by member name into `data` (a fresh buffer unless one is given to reuse). */
export function packUniform(
  layout: UniformLayout,
  values: Record<string, number>,
  what: string,
  data = new ArrayBuffer(layout.size),
): ArrayBuffer {
  const view = new DataView(data);
  const known = new Set(layout.members.map((m) => m.name));
  for (const key of Object.keys(values)) {
    if (!known.has(key))
      throw new Error(`${what}: unknown parameter '${key}' (the struct has ${[...known].join(', ')}).`);
  }
  for (const member of layout.members) {
    const value = values[member.name];
    if (value === undefined) throw new Error(`${what}: parameter '${member.name}' is missing.`);
    if (!Number.isFinite(value)) throw new Error(`${what}: parameter '${member.name}' is ${value}.`);
    if (member.type === 'f32') view.setFloat32(member.offset, value, true);
    else if (member.type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
        throw new Error(`${what}: '${member.name}' = ${value} is not a u32.`);
      view.setUint32(member.offset, value, true);
    } else view.setInt32(member.offset, value, true);
  }
  return data;
}
