// Twemoji on the data select: the page's server has them (data/emoji/, vite.config.ts) only where the
// optional npm package is installed, so the option says in one line when it is not, rather than
// failing once chosen.
import { EMOJI_INSTALL, EMOJI_PACKAGE } from '../src/index';

/** Disables the select's 'emoji' option, saying why, when the server has no Twemoji. */
export async function offerEmoji(select: HTMLSelectElement): Promise<void> {
  const option = Array.from(select.options).find((o) => o.value === 'emoji');
  if (!option) return;
  const present = await fetch('data/emoji/emoji.json', { method: 'HEAD' }).then(
    (response) => response.ok,
    () => false,
  );
  option.disabled = !present;
  if (!present)
    option.textContent = `Twemoji: not on this server (the optional npm package ${EMOJI_PACKAGE}; ${EMOJI_INSTALL})`;
  select.dataset.emoji = present ? 'yes' : 'no';
}
