// GAN_TUNE (a page's ?tune=): what the tile tuner (tune.ts) does, parsed and checked against the
// variants some device offers, so a mistyped value is refused by name.
import { GEMM_TILES, tileVariants, type TileForm, type TileKernel } from './tiles';

export type TuneMode = { kind: 'auto' } | { kind: 'off' } | { kind: 'fresh' } | { kind: 'force'; name: string };

/** A GAN_TUNE (or ?tune=) value that means nothing: refused by name rather than run as the default under a forced label. */
export class TuneModeError extends Error {
  override name = 'TuneModeError';
}

let variantNames: Set<string> | undefined;
/** Every variant name some device offers: tileVariants on a GPU and on a software adapter, with every subgroup size. */
export function knownVariantNames(): Set<string> {
  if (variantNames) return variantNames;
  variantNames = new Set();
  const subgroups = new Set(['subgroups']);
  for (const kernel of Object.keys(GEMM_TILES) as TileKernel[]) {
    for (const software of [false, true]) {
      for (let size = 1; size <= 128; size++)
        for (const v of tileVariants(kernel, { features: subgroups, subgroupMaxSize: size, software }))
          variantNames.add(v.name);
    }
  }
  return variantNames;
}

/** The values of GAN_TUNE that mean something, for the refusal: subgroups/8 ... subgroups/128 as one range. */
function tuneValuesText(): string {
  const names = [...knownVariantNames()];
  const forms = [...new Set(names.map((n) => n.split('/')[0]))];
  const listed = forms.map((form) => {
    const mine = names
      .filter((n) => n.startsWith(`${form}/`))
      .sort((a, b) => parseInt(a.split('/')[1]) - parseInt(b.split('/')[1]));
    return mine.length > 3 ? `${mine[0]} to ${mine[mine.length - 1]}` : mine.join(', ');
  });
  return `off, fresh, auto, a form (${forms.join(', ')}) or a variant (${listed.join(', ')})`;
}

/**
 * GAN_TUNE's value: off, fresh, auto or empty, or the name (registers/64) or form (workgroup) of a
 * variant; anything else is a TuneModeError naming `setting` (GAN_TUNE, or a page's ?tune).
 */
export function parseTuneMode(text: string | undefined, setting = 'GAN_TUNE'): TuneMode {
  const value = (text ?? '').trim();
  if (value === '' || value === 'auto' || value === 'on') return { kind: 'auto' };
  if (value === 'off' || value === 'fresh') return { kind: value };
  const forms: readonly string[] = ['registers', 'workgroup', 'subgroups'] satisfies TileForm[];
  if (!forms.includes(value) && !knownVariantNames().has(value))
    throw new TuneModeError(`${setting}=${value}: no such tile choice; use ${tuneValuesText()}.`);
  return { kind: 'force', name: value };
}
