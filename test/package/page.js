// A page of someone else's that trains a GAN with the package: README, "Use it in your own page".
import { createGan, attachCanvas, train, toyDivergence, readSamples, saveCheckpoint, loadCheckpoint } from 'webgpu-gan';

const status = document.querySelector('#status');
const canvas = document.querySelector('#samples');

async function main() {
  // The ring of eight gaussians: no data to fetch. For digits: createGan({ preset: 'small-mnist' }).
  const gan = await createGan({ preset: 'toy-2d-ring' });
  const view = await attachCanvas(gan, canvas);
  const before = toyDivergence(gan.data, await readSamples(gan));
  for (let window = 0; window < 6; window++) {
    await train(gan, 10);
    view.draw();
    status.textContent = `iteration ${gan.trainer.iteration}`;
  }
  const after = toyDivergence(gan.data, await readSamples(gan));
  // Save and open again, as a user would keep a model between visits.
  const bytes = await saveCheckpoint(gan);
  const again = await loadCheckpoint(bytes, { context: gan.context });
  const snapshot = await view.snapshot();
  const colours = new Set();
  for (let i = 0; i < snapshot.pixels.length; i += 4)
    colours.add((snapshot.pixels[i] << 16) | (snapshot.pixels[i + 1] << 8) | snapshot.pixels[i + 2]);
  window.result = {
    before,
    after,
    iteration: gan.trainer.iteration,
    reopened: again.trainer.iteration,
    bytes: bytes.length,
    colours: colours.size,
  };
  status.textContent = 'done';
}

main().catch((err) => {
  window.result = { error: `${err.name}: ${err.message}` };
  status.textContent = err.message;
});
