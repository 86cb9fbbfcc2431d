// Node: WebGPU from Dawn (the npm package `webgpu`), and the thread priority that lets the main
// thread wait without taking a core from a software adapter (./wait.ts).
import { getPriority, setPriority } from 'node:os';
import { createRequire } from 'node:module';

export const platformHelp =
  'On Linux without a GPU, install a software Vulkan driver that Dawn accepts: Mesa lavapipe 24 or newer ' +
  "(Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers`; bookworm's own Mesa 22.3 is " +
  "rejected), or SwiftShader from Debian's chromium package with " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json. With a GPU, install its Vulkan driver.';

/** The adapter asked for by the environment when a caller names none. */
export function adapterFromEnvironment(): string | undefined {
  return process.env.GAN_ADAPTER;
}

// Dawn's Node binding aborts the process if the object returned by create() is garbage-collected,
// so the module keeps each one for the process's lifetime, by adapter name.
const gpus = new Map<string, GPU>();

export class PlatformGpuError extends Error {}

export function platformGpu(adapterName: string | undefined): GPU {
  const known = gpus.get(adapterName ?? '');
  if (known) return known;
  let dawn: { create(options: string[]): GPU; globals: object };
  try {
    // Loaded on first use, so that a command which never touches the GPU does not load Dawn.
    dawn = createRequire(import.meta.url)('webgpu');
  } catch (err) {
    throw new PlatformGpuError(
      `The npm package 'webgpu' (Dawn for Node) could not be loaded: ${(err as Error).message}. Run \`npm install\`.`,
    );
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(adapterName ? [`adapter=${adapterName}`] : []);
  gpus.set(adapterName ?? '', gpu);
  return gpu;
}

export interface ThreadPriority {
  get(): number;
  set(priority: number): void;
}

/** On Linux a nice value belongs to a thread, so the main thread alone can be lowered; elsewhere none. */
export function threadPriority(): ThreadPriority | undefined {
  if (process.platform !== 'linux') return undefined;
  return { get: () => getPriority(), set: (priority) => setPriority(priority) };
}
