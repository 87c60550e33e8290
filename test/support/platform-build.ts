import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BUILDS = join(ROOT, '.data', 'test-build');
/** What tsconfig.json compiles (apps/console has its own tsconfig), and what the build copies beside it. */
const SOURCE_DIRS = ['apps', 'libs', 'test', 'bench'];
const NOT_SOURCES = new Set(['apps/console', 'test/artifacts']);

/**
 * The platform compiled to JavaScript for suites that start it as child processes: a process
 * loading it through ts-node spends about 6 s (and a core) transpiling before it runs, the
 * compiled one about 1 s. Emit only (`--noCheck`): `npm test` type-checks the same sources first.
 *
 * The build is named by a hash of every file under the source directories, tsconfig.json and the
 * compiler's version, so it is reused only while it is exactly what the sources compile to: suites
 * of one run (in either jest worker) build it once, and an edit builds it again. Two workers that
 * build at once each write their own directory and the first rename wins.
 */
export function platformBuild(): string {
  current ??= buildOf(sourceHash());
  return current;
}

/** This test file's build: its sources do not change while it runs (jest loads modules afresh for each file). */
let current: string | undefined;

function buildOf(hash: string): string {
  const build = join(BUILDS, hash);
  if (existsSync(build)) return build;
  const partial = join(BUILDS, `${hash}.${process.pid}.partial`);
  rmSync(partial, { recursive: true, force: true });
  const compiled = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noCheck', '--sourceMap', 'false', '--outDir', partial], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (compiled.status !== 0) throw new Error(`build failed: ${compiled.stdout}${compiled.stderr}`);
  // What `npm run build` copies too: migrations and Lua scripts.
  for (const lib of readdirSync(join(ROOT, 'libs'))) {
    for (const dir of ['migrations', 'src/scripts']) {
      const from = join(ROOT, 'libs', lib, dir);
      if (existsSync(from)) cpSync(from, join(partial, 'libs', lib, dir), { recursive: true });
    }
  }
  try {
    renameSync(partial, build);
  } catch (error) {
    // The other worker finished the same build first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(build)) throw error;
  }
  pruneOtherBuilds(hash);
  return build;
}

/** `node` arguments and environment that run `entry` (a path under the repository, .ts) compiled. */
export function compiledProcess(entry: string): { args: string[]; env: Record<string, string> } {
  const build = platformBuild();
  return {
    args: ['-r', 'tsconfig-paths/register', join(build, entry.replace(/\.ts$/, '.js'))],
    env: { TS_NODE_BASEURL: build, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
  };
}

function sourceHash(): string {
  const hash = createHash('sha256');
  hash.update(require('typescript/package.json').version);
  hash.update(readFileSync(join(ROOT, 'tsconfig.json')));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.name === 'node_modules' || NOT_SOURCES.has(relative(ROOT, path))) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(`${relative(ROOT, path)}\0`).update(readFileSync(path)).update('\0');
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return hash.digest('hex').slice(0, 16);
}

/** Builds of older sources, and partial ones of processes no longer running. */
function pruneOtherBuilds(kept: string): void {
  for (const name of readdirSync(BUILDS)) {
    const partialOf = /^[0-9a-f]{16}\.(\d+)\.partial$/.exec(name);
    if (name === kept || (partialOf && processRuns(Number(partialOf[1])))) continue;
    rmSync(join(BUILDS, name), { recursive: true, force: true });
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // Another user's process: running all the same.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
