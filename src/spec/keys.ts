// How the training step keys its random draws; shared by the GPU scheduler and its CPU twin.
// Every draw is keyed by (seed, stream) and counted by (iteration, pass): D step j draws its noise
// and minibatch with pass 4j, its real D pass with 4j + 1 and its fake pass with 4j + 2; the G step
// uses 4k and 4k + 2. A run is a pure function of its seed, and resuming at iteration i draws
// exactly what the uninterrupted run drew.
import { STREAM_DROPOUT } from './rng';

export const PASSES_PER_D_STEP = 4;
export const REAL_PASS = 1;
export const FAKE_PASS = 2;
/** D's dropout streams start at STREAM_DROPOUT; G has no dropout, its base only keeps keys apart if a config adds some. */
export const DISCRIMINATOR_DROPOUT_STREAM = STREAM_DROPOUT;
export const GENERATOR_DROPOUT_STREAM = STREAM_DROPOUT + 64;
/** The pass number of the fixed noise behind sample grids: drawn once, at iteration 0. */
export const FIXED_NOISE_PASS = 0xffff;

export function dStepPass(j: number): number {
  return PASSES_PER_D_STEP * j;
}

export function gStepPass(k: number): number {
  return PASSES_PER_D_STEP * k;
}
