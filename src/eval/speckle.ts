// Speckle: the share of bright pixels that stand alone, none of their 8 neighbours lit. A digit is
// drawn in strokes, so in MNIST's test images that share is 0.0%; a generator that scatters single
// bright pixels around its strokes and over the background scores high even when its digits are
// readable, and at the Parzen window's sigma of about .2 every such pixel costs about 12 nats.
import type { Rows } from './window';

/** A pixel counts as bright above this value (pixels in [0, 1]). */
export const SPECKLE_BRIGHT = 0.5;
/** A bright pixel is isolated when every neighbour inside the image is below this. */
export const SPECKLE_NEIGHBOUR_DARK = 0.25;

export interface SpeckleMeasure {
  /** Isolated bright pixels over all bright pixels (0 when no pixel is bright). */
  share: number;
  brightPixels: number;
  isolatedPixels: number;
}

/** Speckle of `rows` square images (features = side^2), values times `rows.scale` in [0, 1]. */
export function speckle(rows: Rows, bright = SPECKLE_BRIGHT, neighbourDark = SPECKLE_NEIGHBOUR_DARK): SpeckleMeasure {
  const side = Math.round(Math.sqrt(rows.features));
  if (side * side !== rows.features) throw new RangeError(`speckle: images of ${rows.features} pixels are not square`);
  const scale = rows.scale ?? 1;
  let brightPixels = 0;
  let isolatedPixels = 0;
  for (let n = 0; n < rows.count; n++) {
    const image = rows.values.subarray(n * rows.features, (n + 1) * rows.features);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        if (!(image[y * side + x] * scale > bright)) continue;
        brightPixels++;
        let lit = false;
        for (let dy = -1; dy <= 1 && !lit; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const [ny, nx] = [y + dy, x + dx];
            if ((dy === 0 && dx === 0) || ny < 0 || nx < 0 || ny >= side || nx >= side) continue;
            if (image[ny * side + nx] * scale >= neighbourDark) {
              lit = true;
              break;
            }
          }
        }
        if (!lit) isolatedPixels++;
      }
    }
  }
  return { share: brightPixels === 0 ? 0 : isolatedPixels / brightPixels, brightPixels, isolatedPixels };
}
