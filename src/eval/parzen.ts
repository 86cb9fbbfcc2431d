// The paper's Parzen-window log-likelihood, as the authors' parzen_ll.py measures it: a Gaussian
// Parzen window on the samples, sigma chosen from logspace(-1, 0, 10) by the mean log-likelihood of
// the validation images (the first 1,000 of train images 50000..59999), then the mean over the test
// images with the standard error std / sqrt(N) (numpy's std, which divides by N).
import { SampleWindow, type Rows } from './window';

/** `count` values from 10^start to 10^stop, evenly spaced in the exponent (numpy.logspace). */
export function logspace(start: number, stop: number, count: number): number[] {
  if (count === 1) return [10 ** start];
  return Array.from({ length: count }, (_, i) => 10 ** (start + ((stop - start) * i) / (count - 1)));
}

/** The authors' grid: logspace(-1, 0, 10), i.e. 0.1 ... 1. */
export function paperSigmas(): number[] {
  return logspace(-1, 0, 10);
}

/** Mean and standard error std / sqrt(N), std with divisor N as parzen_ll.py (numpy) computes it. */
export function meanAndStandardError(values: ArrayLike<number>, stride = 1, offset = 0): { mean: number; se: number } {
  const n = Math.floor((values.length - offset + stride - 1) / stride);
  let sum = 0;
  for (let i = offset; i < values.length; i += stride) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = offset; i < values.length; i += stride) squares += (values[i] - mean) ** 2;
  return { mean, se: Math.sqrt(squares / n) / Math.sqrt(n) };
}

export interface ParzenResult {
  /** Mean test log-likelihood (nats) at the chosen sigma, and its standard error. */
  ll: number;
  se: number;
  sigma: number;
  /** Every sigma tried: the mean validation log-likelihood that chose among them, and the test's. */
  bySigma: { sigma: number; valid_ll: number; test_ll?: number }[];
  nSamples: number;
  nValid: number;
  nTest: number;
}

/** The protocol on a window already holding the samples: choose sigma on `valid`, report on `test`. */
export async function parzenEvaluation(
  window: SampleWindow,
  valid: Rows,
  test: Rows,
  sigmas: readonly number[] = paperSigmas(),
): Promise<ParzenResult> {
  const validLl = await window.logLikelihoods(valid, sigmas);
  const bySigma: ParzenResult['bySigma'] = sigmas.map((sigma, j) => ({
    sigma,
    valid_ll: meanAndStandardError(validLl, sigmas.length, j).mean,
  }));
  // numpy.argmax: the first of equal maxima.
  let best = 0;
  bySigma.forEach((s, j) => {
    if (s.valid_ll > bySigma[best].valid_ll) best = j;
  });
  // The test pass serves every sigma for the price of one (the distances dominate), which shows how
  // much the estimate hangs on sigma; the reported figure is the validation-chosen one.
  const testLl = await window.logLikelihoods(test, sigmas);
  const { mean, se } = meanAndStandardError(testLl, sigmas.length, best);
  for (const [j, s] of bySigma.entries()) s.test_ll = meanAndStandardError(testLl, sigmas.length, j).mean;
  return {
    ll: mean,
    se,
    sigma: sigmas[best],
    bySigma,
    nSamples: window.sampleCount,
    nValid: valid.count,
    nTest: test.count,
  };
}
