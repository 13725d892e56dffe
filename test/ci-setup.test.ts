// .ci/setup adds bookworm-backports from the mirror the machine's apt sources already use (.ci/debian-mirror):
// deb822 files and one-line lists, with options, comments, other suites and other types, in apt's order.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

/** Runs .ci/debian-mirror on an apt folder made of `files` (path under it → text). */
function mirror(files: Record<string, string>, codename = 'bookworm') {
  const dir = mkdtempSync(join(tmpdir(), 'apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const r = spawnSync('bash', ['.ci/debian-mirror', codename, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim() };
}

describe('.ci/debian-mirror', () => {
  test('deb822: the URIs of the stanza whose Suites name the codename, not the security one', () => {
    const r = mirror({
      'sources.list.d/debian.sources': [
        'Types: deb',
        '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
        'URIs: http://mirror.example.org/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://security.example.org/debian-security',
        'Suites: bookworm-security',
        '',
      ].join('\n'),
    });
    expect(r).toEqual({ status: 0, out: 'http://mirror.example.org/debian' });
  });

  test('one-line lists, with [options], skipping comments, deb-src and other suites', () => {
    const r = mirror({
      'sources.list': [
        '# deb http://old.example.org/debian bookworm main',
        'deb-src http://src.example.org/debian bookworm main',
        'deb http://security.example.org/debian-security bookworm-security main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://proxy.local:3142/debian bookworm main',
      ].join('\n'),
    });
    expect(r).toEqual({ status: 0, out: 'http://proxy.local:3142/debian' });
  });

  test('sources.list before sources.list.d, as apt reads them; a deb-src stanza is not a mirror of packages', () => {
    expect(
      mirror({
        'sources.list': 'deb http://first.example.org/debian bookworm main\n',
        'sources.list.d/a.sources': 'Types: deb\nURIs: http://second.example.org/debian\nSuites: bookworm\n',
      }).out,
    ).toBe('http://first.example.org/debian');
    expect(
      mirror({
        'sources.list.d/a.sources':
          'Types: deb-src\nURIs: http://src.example.org/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://bin.example.org/debian\nSuites: bookworm\n',
      }).out,
    ).toBe('http://bin.example.org/debian');
  });

  test('no source for the codename: exit 1 and nothing printed, so .ci/setup can say what to do', () => {
    expect(
      mirror({ 'sources.list.d/t.sources': 'Types: deb\nURIs: http://x.example.org/debian\nSuites: trixie\n' }),
    ).toEqual({ status: 1, out: '' });
    expect(mirror({})).toEqual({ status: 1, out: '' });
    expect(mirror({ 'sources.list': 'deb http://x.example.org/debian trixie main\n' }, 'trixie').out).toBe(
      'http://x.example.org/debian',
    );
  });
});
