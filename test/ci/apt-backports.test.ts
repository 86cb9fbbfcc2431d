// .ci/install-system.sh adds bookworm-backports from the apt sources the machine already has: the
// derivation (backports_line in .ci/apt-backports.sh) on sample source directories, without apt.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = new URL('../../.ci/apt-backports.sh', import.meta.url).pathname;

/** An /etc/apt-like directory holding `files` (paths relative to it), and what backports_line prints for it. */
function derive(files: Record<string, string>): { status: number | null; line: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gan-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = spawnSync('bash', ['-c', 'source "$0" && backports_line "$1"', script, dir], { encoding: 'utf8' });
  assert.equal(run.stderr, '');
  return { status: run.status, line: run.stdout.trim() };
}

test('the one-line sources.list: the mirror, options and components of the bookworm line', () => {
  const sources = [
    '# the local mirror',
    'deb-src http://mirror.example.org/debian bookworm main',
    'deb http://security.example.org/debian-security bookworm-security main',
    'deb [arch=amd64 signed-by=/etc/apt/keyrings/local.gpg] http://mirror.example.org/debian bookworm main contrib non-free-firmware # comment',
    'deb http://other.example.org/debian bookworm main',
  ].join('\n');
  assert.deepEqual(derive({ 'sources.list': sources }), {
    status: 0,
    line: 'deb [arch=amd64 signed-by=/etc/apt/keyrings/local.gpg] http://mirror.example.org/debian bookworm-backports main contrib non-free-firmware',
  });
  assert.deepEqual(derive({ 'sources.list.d/mirror.list': 'deb http://proxy.local:3142/debian bookworm main\n' }), {
    status: 0,
    line: 'deb http://proxy.local:3142/debian bookworm-backports main',
  });
});

test("deb822 .sources (Debian 12's default): the first enabled deb stanza whose suites include bookworm", () => {
  const debian = [
    'Types: deb-src',
    'URIs: http://src.example.org/debian',
    'Suites: bookworm',
    'Components: main',
    '',
    'Types: deb',
    'URIs: http://disabled.example.org/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
    '',
    "# the machine's mirror",
    'Types: deb deb-src',
    'URIs: http://mirror.example.org/debian http://fallback.example.org/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main contrib',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://mirror.example.org/debian-security',
    'Suites: bookworm-security',
    'Components: main',
  ].join('\n');
  assert.deepEqual(derive({ 'sources.list.d/debian.sources': debian }), {
    status: 0,
    line: 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.org/debian bookworm-backports main contrib',
  });
  // A stanza that ends a file ends there, even without a blank line: the next file starts afresh.
  const split = {
    'sources.list.d/a.sources': 'Types: deb\nURIs: http://a.example.org/debian\nSuites: trixie\nComponents: main',
    'sources.list.d/b.sources': 'Suites: bookworm\nTypes: deb\nURIs: http://b.example.org/debian\nComponents: main\n',
  };
  assert.deepEqual(derive(split), { status: 0, line: 'deb http://b.example.org/debian bookworm-backports main' });
});

test('no bookworm source at all: nothing printed and a failure, so the install stops with a message', () => {
  assert.deepEqual(derive({ 'sources.list': 'deb http://deb.debian.org/debian trixie main\n' }), {
    status: 1,
    line: '',
  });
  assert.deepEqual(derive({}), { status: 1, line: '' });
});
