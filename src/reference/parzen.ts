// CPU twin of shaders/parzen.wgsl, in float64: squared distances taken directly as sum (x - mu)^2
// (no cancellation), the Gaussian Parzen window's log-likelihood through a stable log-mean-exp, and
// the nearest sample. The oracle for test/kernels/parzen.test.ts and the Parzen evaluation's tests.

/** Row-major (points, samples) matrix of ||x_t - mu_s||^2; x is (points, features), mu (samples, features). */
export function squaredDistances(
  x: ArrayLike<number>,
  mu: ArrayLike<number>,
  points: number,
  samples: number,
  features: number,
): Float64Array {
  const out = new Float64Array(points * samples);
  for (let t = 0; t < points; t++) {
    for (let s = 0; s < samples; s++) {
      let sum = 0;
      for (let k = 0; k < features; k++) {
        const diff = x[t * features + k] - mu[s * features + k];
        sum += diff * diff;
      }
      out[t * samples + s] = sum;
    }
  }
  return out;
}

/** log(mean(exp(v))), exact for any v: the largest term is factored out, so nothing overflows to inf or underflows to log(0). */
export function logMeanExp(values: ArrayLike<number>, from = 0, count = values.length - from): number {
  let max = -Infinity;
  for (let i = from; i < from + count; i++) max = Math.max(max, values[i]);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum / count);
}

/** log N(.; mu, sigma^2 I)'s constant: -d/2 log(2 pi sigma^2). */
export function gaussianLogNormaliser(features: number, sigma: number): number {
  return -0.5 * features * Math.log(2 * Math.PI * sigma * sigma);
}

/**
 * log p(x_t) for every point and sigma, row-major (points, sigmas.length), where p is the mean of
 * isotropic Gaussians N(mu_s, sigma^2 I): logmeanexp_s(-||x_t - mu_s||^2 / (2 sigma^2)) - d/2 log(2 pi sigma^2).
 */
export function parzenLogLikelihoods(
  x: ArrayLike<number>,
  mu: ArrayLike<number>,
  points: number,
  samples: number,
  features: number,
  sigmas: ArrayLike<number>,
): Float64Array {
  const distances = squaredDistances(x, mu, points, samples, features);
  const out = new Float64Array(points * sigmas.length);
  const exponents = new Float64Array(samples);
  for (let t = 0; t < points; t++) {
    for (let j = 0; j < sigmas.length; j++) {
      const a = 1 / (2 * sigmas[j] * sigmas[j]);
      for (let s = 0; s < samples; s++) exponents[s] = -distances[t * samples + s] * a;
      out[t * sigmas.length + j] = logMeanExp(exponents) + gaussianLogNormaliser(features, sigmas[j]);
    }
  }
  return out;
}

/** For each point, the sample at the smallest squared distance (the lowest index among equals). */
export function nearestSamples(
  x: ArrayLike<number>,
  mu: ArrayLike<number>,
  points: number,
  samples: number,
  features: number,
): { index: Uint32Array; distance: Float64Array } {
  const distances = squaredDistances(x, mu, points, samples, features);
  const index = new Uint32Array(points);
  const distance = new Float64Array(points);
  for (let t = 0; t < points; t++) {
    let best = Infinity;
    for (let s = 0; s < samples; s++) {
      const d = distances[t * samples + s];
      if (d < best) {
        best = d;
        index[t] = s;
      }
    }
    distance[t] = best;
  }
  return { index, distance };
}
