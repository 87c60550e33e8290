#!/usr/bin/env node
'use strict';
/*
 * `npm run bulkhead -- <command>`: runs the compiled CLI from dist/ in this process. It compiles
 * first (`npm run build`) only when dist/ has no completed build or a source is newer than it, a
 * check of file times that takes milliseconds; so a command answers in about a second instead of
 * recompiling the project every time. Plain JavaScript: it has to run before anything is built.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
/** Written by `npm run build` when it completes: its time is the build's. */
const STAMP = join(ROOT, 'dist', '.build-stamp');
const SOURCE_DIRS = ['apps', 'libs', 'bench'];
const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification among the sources; directories count, so a deleted file counts too. */
function newestSourceTime() {
  let newest = 0;
  const consider = (path) => {
    const time = statSync(path).mtimeMs;
    if (time > newest) newest = time;
  };
  for (const file of SOURCE_FILES) consider(join(ROOT, file));
  for (const dir of SOURCE_DIRS) {
    consider(join(ROOT, dir));
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true })) consider(join(ROOT, dir, entry));
  }
  return newest;
}

function isStale() {
  return !existsSync(STAMP) || statSync(STAMP).mtimeMs < newestSourceTime();
}

if (isStale()) {
  process.stderr.write('bulkhead: compiling to dist/ (missing or older than the sources)...\n');
  // Under npm, npm_execpath is the npm that is running; otherwise the one on the PATH.
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const built = spawnSync(npm[0], [...npm[1], 'run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' && !process.env.npm_execpath });
  if (built.status !== 0) {
    process.stderr.write('bulkhead: the build failed (see above); fix it and run the command again.\n');
    process.exit(built.status ?? 1);
  }
}

// Exactly `TS_NODE_BASEURL=./dist node -r tsconfig-paths/register`: @bulkhead/* resolves in dist/,
// and the processes the CLI starts (demo: the API and the worker) are started the same way.
process.env.TS_NODE_BASEURL = join(ROOT, 'dist');
process.env.TS_NODE_PROJECT = join(ROOT, 'tsconfig.json');
const register = require.resolve('tsconfig-paths/register');
process.execArgv.push('-r', register);
require(register);
require(join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'));
