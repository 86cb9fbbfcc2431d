// CPU twin of shaders/render.plane.wgsl's colouring of D's output: green towards 1 (real), purple
// towards 0 (fake), white at 1/2.
export function heatmapColor(d: number): [number, number, number] {
  const real = [0.18, 0.62, 0.35];
  const fake = [0.55, 0.33, 0.72];
  const strength = Math.min(1, Math.max(0, Math.abs(d - 0.5) * 2)) * 0.75;
  const target = d >= 0.5 ? real : fake;
  return [0, 1, 2].map((c) => 1 + (target[c] - 1) * strength) as [number, number, number];
}
