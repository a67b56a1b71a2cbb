import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../src/lab/exec';

/** The repository checkout these compiled tests belong to (dist/test/helpers → repo). */
export const REPO = join(__dirname, '..', '..', '..');

/** What `npm pack --json` reports about one tarball. */
export interface PackResult {
  readonly tarball: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { path: string; size: number; mode: number }[];
}

/**
 * `npm pack` the repository as a publisher would (prepack and prepare run), in a copy of its
 * tracked and untracked-but-not-ignored files under `workDir`, so the checkout's own dist/ is left
 * alone. The copy borrows the checkout's node_modules for tsc.
 */
export async function packRepository(workDir: string): Promise<PackResult> {
  const source = join(workDir, 'source');
  await copyCheckout(source);
  symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'));
  const packed = await promisify(execFile)('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: source, timeout: 120_000, encoding: 'utf8' });
  // Lifecycle banners share stdout with the JSON; the JSON is the last top-level array.
  const json = packed.stdout.slice(packed.stdout.lastIndexOf('\n[') + 1);
  const [info] = JSON.parse(json) as [{ filename: string; size: number; unpackedSize: number; files: PackResult['files'] }];
  return { tarball: join(workDir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files };
}

/** Copy the checkout's tracked and untracked-but-not-ignored files (no node_modules, dist, build) to `dest`. */
export async function copyCheckout(dest: string): Promise<void> {
  const { stdout } = await run('git', ['-C', REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  // A worktree whose node_modules is a symlink lists it as untracked (the ignore rule matches directories only).
  for (const file of stdout.split('\0').filter((f) => f !== '' && f !== 'node_modules' && existsSync(join(REPO, f)))) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(REPO, file), join(dest, file));
  }
}

/**
 * A PATH of one directory holding only symlinks to `commands` (resolved on the current PATH):
 * what a host without a compiler, make or python looks like to npm.
 */
export function minimalPath(dir: string, commands: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const command of commands) symlinkSync(realpathSync(commandPath(command)), join(dir, command));
  return dir;
}

/** Where `command` is on the current PATH; throws when it is not. */
export function commandPath(command: string): string {
  const found = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, command)).find((p) => existsSync(p));
  if (found === undefined) throw new Error(`${command} is not on PATH`);
  return found;
}
