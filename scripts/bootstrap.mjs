#!/usr/bin/env node
// The one entry point behind `npm start`, `npm test` and `npm run bench` on a fresh clone.
// It may only use Node built-ins: it runs before `node_modules` exists.
//
//   node scripts/bootstrap.mjs setup   install what is missing and build
//   node scripts/bootstrap.mjs start   setup, then run the whole system in the foreground
//   node scripts/bootstrap.mjs test    setup, then lint, typecheck and every test suite
//   node scripts/bootstrap.mjs bench   setup, then the benchmarks
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const command = process.argv[2] ?? 'setup';
const STAMP = join(root, 'node_modules', '.nessus-mcp-install-stamp');

function say(message) {
  process.stderr.write(`[nessus-mcp] ${message}\n`);
}

function die(message, code = 1) {
  say(`error: ${message}`);
  process.exit(code);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env, ...options });
  if (result.error) die(`${cmd} could not be run: ${result.error.message}`);
  return result.status ?? 1;
}

function onPath(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).stdout.trim() || null;
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) die(`Node.js >= 20.19 is required (this is ${process.version})`);
}

/** `npm ci` when node_modules is missing or was installed from another package-lock.json. */
function ensureDependencies() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const digest = createHash('sha256').update(lock).digest('hex');
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === digest) return;
  say(existsSync(join(root, 'node_modules')) ? 'package-lock.json changed: reinstalling dependencies (npm ci)' : 'installing dependencies (npm ci)');
  // The committed lock lists every platform's optional binaries (swc, turbo), so plain `npm ci`
  // works here exactly as in the Dockerfile.
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) die('dependency installation failed (npm ci, see above)');
  writeFileSync(STAMP, `${digest}\n`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated = false;
/** Installs a Debian package with apt (as root, or through passwordless sudo). */
function aptInstall(pkg, why) {
  if (!onPath('apt-get')) die(`${why}, and apt-get is not available. Install ${pkg} with your package manager and run this again.`, 3);
  const prefix = isRoot() ? [] : onPath('sudo') ? ['sudo', '-n'] : null;
  if (!prefix) die(`${why}. Run as root, or install it yourself: sudo apt-get install -y ${pkg}`, 3);
  say(`${why}: installing Debian package ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(prefix.length ? ['apt-get'] : []), 'update', '-qq'], { env });
    aptUpdated = true;
  }
  const status = run(
    prefix[0] ?? 'apt-get',
    [...prefix.slice(1), ...(prefix.length ? ['apt-get'] : []), 'install', '-y', '-qq', '--no-install-recommends', pkg],
    { env },
  );
  if (status !== 0) die(`apt-get install ${pkg} failed (exit ${status}); install it yourself and run this again`, 3);
}

function redisBinary() {
  if (process.env.REDIS_SERVER_BIN && existsSync(process.env.REDIS_SERVER_BIN)) return process.env.REDIS_SERVER_BIN;
  return onPath('redis-server') ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;
}

function ensureRedis() {
  if (redisBinary()) return;
  aptInstall('redis-server', 'redis-server was not found');
  // Debian's package may start a system-wide Redis on 6379; ours is spawned separately on its own port.
  if (!redisBinary()) die('redis-server is still missing after apt-get install', 3);
}

function ensureChromium() {
  const found = process.env.CHROMIUM_PATH || onPath('chromium') || onPath('chromium-browser');
  if (found) return;
  aptInstall('chromium', 'Chromium (for the browser checks) was not found');
}

function build() {
  say('building (turbo run build)');
  if (run(join(root, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only']) !== 0) die('build failed (see above)');
  // npm links a workspace's commands (nessus-parse, nessus-mcp, ...) only if their files existed at
  // install time, i.e. before this first build: link them now so `npx nessus-parse` works.
  const withBins = ['@nessus-mcp/nessus-parser', '@nessus-mcp/client', '@nessus-mcp/nessus-sim', '@nessus-mcp/gateway', '@nessus-mcp/supervisor'];
  if (withBins.some((name) => !existsSync(join(root, 'node_modules', '.bin', binOf(name))))) {
    if (run('npm', ['rebuild', '--ignore-scripts', '--silent', ...withBins]) !== 0) die('linking the commands failed (see above)');
  }
}

function binOf(workspace) {
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules', workspace, 'package.json'), 'utf8'));
  return Object.keys(manifest.bin ?? {})[0] ?? '';
}

function checkDataDirWritable() {
  const dataDir = process.env.DATA_DIR || join(root, '.data');
  const parent = existsSync(dataDir) ? dataDir : dirname(dataDir);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    die(`DATA_DIR ${dataDir} is not writable`);
  }
}

// Loose env mode: the suites spawn real processes (npm, git, redis-server, chromium) that need the
// caller's whole environment, which turbo's strict mode would filter down to the listed variables.
function turbo(task, extra = []) {
  return run(join(root, 'node_modules', '.bin', 'turbo'), ['run', task, '--concurrency=1', '--env-mode=loose', '--output-logs=new-only', ...extra]);
}

process.env.TURBO_TELEMETRY_DISABLED = '1';
process.env.TURBO_NO_UPDATE_NOTIFIER = '1';
checkNode();
ensureDependencies();
if (command === 'start' ? !process.env.REDIS_URL : true) ensureRedis();
if (command === 'test') ensureChromium();
build();

switch (command) {
  case 'setup':
    say('setup complete');
    break;
  case 'start': {
    checkDataDirWritable();
    // The supervisor owns signals from here on: npm forwards SIGINT/SIGTERM to this process.
    // The supervisor gets a stdin pipe: if this process dies, even by SIGKILL, the pipe closes and
    // the supervisor stops everything it started.
    const child = spawn(process.execPath, [join(root, 'apps', 'supervisor', 'dist', 'main.js')], {
      cwd: root,
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { ...process.env, NESSUS_MCP_SUPERVISED: '1' },
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
    // npm may exit on SIGTERM without passing it on; when our parent goes, stop the system.
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid !== parent) child.kill('SIGTERM');
    }, 1000);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      process.exit(code ?? (signal ? 1 : 0));
    });
    break;
  }
  case 'test': {
    let failed = false;
    say('lint and import boundaries');
    failed = run('npm', ['run', 'lint', '--silent']) !== 0 || failed;
    say('typecheck');
    failed = turbo('typecheck') !== 0 || failed;
    say('unit, integration and end-to-end suites');
    failed = turbo('test', ['--continue']) !== 0 || failed;
    if (failed) die('some checks failed (see above)');
    say('all checks passed');
    break;
  }
  case 'bench':
    process.exit(turbo('bench', ['--continue']));
    break;
  default:
    die(`unknown command '${command}' (use setup, start, test or bench)`, 2);
}
