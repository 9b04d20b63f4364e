// Run by each workspace's build after tsc, from the workspace directory. tsc writes its output
// with mode 0644, so without this the `bin` links npm creates answer "Permission denied".
import { chmodSync, readFileSync } from 'node:fs';

const { name, bin } = JSON.parse(readFileSync('package.json', 'utf8'));
const files = typeof bin === 'string' ? [bin] : Object.values(bin ?? {});
if (files.length === 0) throw new Error(`${name}: package.json declares no bin to mark executable`);
for (const file of files) {
  if (!readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n'))
    throw new Error(`${name}: ${file} must start with '#!/usr/bin/env node' to run as a command`);
  chmodSync(file, 0o755);
}
