// A shader lookup over WGSL texts already in memory, for the halves of '#shader-files' that bundle
// the shaders as strings (the pages under Vite, the built package).

export function shaderLookup(files: Readonly<Record<string, string>>): (name: string) => string {
  return (name) => {
    const text = files[name];
    if (text === undefined) throw new Error(`Unknown shader 'shaders/${name}.wgsl'.`);
    return text;
  };
}
