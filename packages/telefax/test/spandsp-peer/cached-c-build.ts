/**
 * @module
 * Builds a test peer's C program on demand and caches the binary by a hash of its sources, so tests rebuild
 * only when the C code changes. Parallel test processes may build at once: each compiles to a private name and
 * renames it into place.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface CachedCBuild {
  /** The program's name; binaries are `<dir>/build/<name>-<hash>`. */
  readonly name: string;
  /** Folder holding the program's .c/.h files and build.sh. */
  readonly dir: string;
  /** Sources from other folders that the build compiles in too (they count in the hash). */
  readonly extraSources?: readonly string[];
  /** pkg-config modules that must exist, and the install hint shown when they don't. */
  readonly pkgConfig: readonly string[];
  readonly installHint: string;
}

async function sourceHash(build: CachedCBuild): Promise<string> {
  const hash = createHash('sha256');
  const own = (await readdir(build.dir)).filter((n) => /\.(c|h)$/.test(n) || n === 'build.sh').sort();
  for (const name of own) {
    hash.update(name);
    hash.update(await readFile(join(build.dir, name)));
  }
  for (const path of build.extraSources ?? []) {
    hash.update(path);
    hash.update(await readFile(path));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The binary for the current sources, compiled first if needed. */
export async function cachedCBuild(build: CachedCBuild): Promise<string> {
  const buildDir = join(build.dir, 'build');
  const binary = join(buildDir, `${build.name}-${await sourceHash(build)}`);
  try {
    await access(binary);
    return binary;
  } catch {
    // not built yet for these sources
  }
  try {
    await execFileAsync('pkg-config', ['--exists', ...build.pkgConfig]);
  } catch {
    throw new Error(
      `${build.name}: pkg-config ${build.pkgConfig.join(' ')} not found; install with: ${build.installHint}`,
    );
  }
  await mkdir(buildDir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await execFileAsync('sh', [join(build.dir, 'build.sh'), partial], { timeout: 120_000 });
  } catch (err) {
    await rm(partial, { force: true });
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`${build.name}: build failed:\n${stderr}`);
  }
  await rename(partial, binary);
  // Binaries of earlier sources are of no further use.
  for (const name of await readdir(buildDir)) {
    const path = join(buildDir, name);
    if (name.startsWith(`${build.name}-`) && !name.endsWith('.tmp') && path !== binary)
      await rm(path, { force: true });
  }
  return binary;
}

/** `cachedCBuild(build)`, shared by the callers of one process; a failed build is tried again on the next call. */
export function cachedCBuildOnce(build: CachedCBuild): () => Promise<string> {
  let building: Promise<string> | undefined;
  return () => {
    building ??= cachedCBuild(build).catch((err: unknown) => {
      building = undefined;
      throw err;
    });
    return building;
  };
}

/** The peer's result: the last line of its stdout, when that is a JSON object. */
export function lastJsonLine<T>(stdout: string): T | null {
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  if (!last?.startsWith('{')) return null;
  try {
    return JSON.parse(last) as T;
  } catch {
    return null;
  }
}
