// A page: WebGPU from navigator.gpu; a page's thread has no priority to lower (./wait.ts).

export const platformHelp =
  'This browser exposes no WebGPU adapter. Use Chrome or Edge 113 or newer (on Linux start Chrome with ' +
  '--enable-unsafe-webgpu --enable-features=Vulkan), or Safari 26 / Firefox 141 or newer with WebGPU enabled.';

export function adapterFromEnvironment(): string | undefined {
  return undefined;
}

export class PlatformGpuError extends Error {}

export function platformGpu(_adapterName: string | undefined): GPU {
  const gpu = (globalThis as { navigator?: Navigator }).navigator?.gpu;
  if (!gpu) throw new PlatformGpuError(platformHelp);
  return gpu;
}

export interface ThreadPriority {
  get(): number;
  set(priority: number): void;
}

export function threadPriority(): ThreadPriority | undefined {
  return undefined;
}
