// CPU twin of shaders/render.plane.wgsl's colouring of D's output: green towards 1 (real), purple
// towards 0 (fake), white at 1/2.
export function heatmapColor(d: number): [number, number, number] {
  const real = [0.18, 0.62, 0.35];
  const fake = [0.55, 0.33, 0.72];
  const strength = Math.min(1, Math.max(0, Math.abs(d - 0.5) * 2)) * 0.75;
  const target = d >= 0.5 ? real : fake;
  return [0, 1, 2].map((c) => 1 + (target[c] - 1) * strength) as [number, number, number];
}

/**
 * The heatmap draw of render.plane.wgsl on a width x height target: each pixel, at its centre, takes
 * the grid cell under it (x to the right, y up, so row 0 of the grid is the bottom of the picture)
 * and colours sigmoid of that cell's logit. Row-major RGB in [0, 1].
 */
export function heatmapPixels(logits: ArrayLike<number>, n: number, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = Math.min(Math.floor(((x + 0.5) / width) * n), n - 1);
      const j = Math.min(Math.floor((1 - (y + 0.5) / height) * n), n - 1);
      out.set(heatmapColor(1 / (1 + Math.exp(-logits[j * n + i]))), (y * width + x) * 3);
    }
  }
  return out;
}
