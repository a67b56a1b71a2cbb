/**
 * Which responders and cases `npm run bench` runs: all of them by default; for short runs
 * while developing, `--responders KEY,...` and `--cases REGEX` (see README "Benchmark").
 */
import type { ResponderKind } from './responders';

/** The two cases that build their own labs and run once per responder after the per-responder cases. */
export const ROUTER_CASE = 'router under flood';
export const TARGETS_CASE = 'configured targets';

/** What to run; `undefined` fields select everything. */
export interface Selection {
  responders?: string[];
  /** Case-insensitive regular expression over case names (per-responder cases, `router under flood`, `configured targets`). */
  cases?: string;
  debugCost: boolean;
}

/** Reads `--responders`, `--cases` and `--debug-cost` from the harness's arguments; throws a one-line message on a bad one. */
export function parseSelection(argv: readonly string[]): Selection {
  const selection: Selection = { debugCost: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--debug-cost') selection.debugCost = true;
    else if (flag === '--responders') selection.responders = value().split(',').map((k) => k.trim()).filter((k) => k !== '');
    else if (flag === '--cases') {
      const pattern = value();
      try {
        new RegExp(pattern, 'i');
      } catch (error) {
        throw new Error(`--cases: ${(error as Error).message}`);
      }
      selection.cases = pattern;
    } else throw new Error(`unknown argument ${arg} (known: --responders KEY,..., --cases REGEX, --debug-cost)`);
  }
  return selection;
}

/** The kinds selected by key, in table order; throws naming the known keys when one is unknown. */
export function selectResponders(kinds: readonly ResponderKind[], keys: readonly string[] | undefined): ResponderKind[] {
  if (keys === undefined) return [...kinds];
  const unknown = keys.filter((k) => !kinds.some((kind) => kind.key === k));
  if (unknown.length > 0) throw new Error(`--responders: unknown ${unknown.join(', ')} (known: ${kinds.map((k) => k.key).join(', ')})`);
  return kinds.filter((kind) => keys.includes(kind.key));
}

/** Whether the case named `name` is selected. */
export function caseSelected(selection: Selection, name: string): boolean {
  return selection.cases === undefined || new RegExp(selection.cases, 'i').test(name);
}

/** One line saying what a partial run left out, or undefined for a full run. */
export function describeSelection(selection: Selection): string | undefined {
  const parts = [
    ...(selection.responders === undefined ? [] : [`responders ${selection.responders.join(', ')}`]),
    ...(selection.cases === undefined ? [] : [`cases matching /${selection.cases}/i`]),
  ];
  return parts.length === 0 ? undefined : `Partial run: ${parts.join('; ')}.`;
}
