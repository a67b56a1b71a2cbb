/**
 * The programs the lab starts besides node, found the way execvp will find them: on PATH.
 * Checked before anything runs, so a missing one is one line naming its package instead of a
 * timeout deep in a scenario.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program and the Debian package that ships it. */
export interface Tool {
  readonly name: string;
  readonly debianPackage: string;
}

/** What `ndp-responder demo` runs: `ip` for namespaces, links, addresses and neighbours; `sysctl` for settings. */
export const DEMO_TOOLS: readonly Tool[] = [
  { name: 'ip', debianPackage: 'iproute2' },
  { name: 'sysctl', debianPackage: 'procps' },
];

/** The executable `name` in the first PATH directory that has one, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The tools of `tools` not on `path`, in order. */
export function missingTools(tools: readonly Tool[], path = process.env.PATH ?? ''): Tool[] {
  return tools.filter((tool) => findOnPath(tool.name, path) === undefined);
}
