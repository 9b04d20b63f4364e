import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every `bin` that a workspace declares, as npm links it into node_modules/.bin. */
function workspaceBins(): Array<{ name: string; file: string }> {
  const bins: Array<{ name: string; file: string }> = [];
  for (const group of ['apps', 'packages']) {
    for (const workspace of readdirSync(join(REPO_ROOT, group))) {
      const dir = join(REPO_ROOT, group, workspace);
      let manifest: { name: string; bin?: string | Record<string, string> };
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof manifest;
      } catch {
        continue;
      }
      const declared = typeof manifest.bin === 'string' ? { [manifest.name.replace(/^@[^/]+\//, '')]: manifest.bin } : (manifest.bin ?? {});
      for (const [name, file] of Object.entries(declared)) bins.push({ name, file: join(dir, file) });
    }
  }
  return bins;
}

describe('workspace commands after a build', () => {
  const bins = workspaceBins();

  it('finds the commands the README documents', () => {
    expect(bins.map((bin) => bin.name)).toEqual(expect.arrayContaining(['nessus-mcp', 'nessus-sim', 'nessus-parse']));
  });

  it.each(bins.map((bin) => [bin.name, bin.file]))('%s is built executable with a node shebang', (_name, file) => {
    expect(statSync(file).mode & 0o111).toBe(0o111);
    expect(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it.each(['nessus-mcp', 'nessus-sim', 'nessus-parse'])('%s --help answers through its node_modules/.bin link', (name) => {
    // execFileSync throws on a non-zero exit or on EACCES, which is what a missing execute bit gives.
    const help = execFileSync(join(REPO_ROOT, 'node_modules', '.bin', name), ['--help'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60000 });
    expect(help).toMatch(/usage/i);
  });
});
