/**
 * The `--config` YAML loader. Pure: text in, options out. Every value is checked against
 * its schema row here, once, and an error names the file, line, column and key.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError } from '../model/errors';
import { checkListLength, checkScalar, CONFIG_SCHEMA, schemaRow, type SchemaRow } from './schema';
import { parseTarget } from '../core/parse-target';

/** Option values from a file, keyed like commander's (`target`, `configureHost`, …). */
export type FileOptions = Record<string, unknown>;

/** Names the place of a problem: "FILE:LINE:COL: KEY: message". */
class Locator {
  constructor(
    private readonly fileName: string,
    private readonly lines: LineCounter,
  ) {}

  error(node: Node | undefined, key: string | undefined, message: string): UserError {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return new UserError(`${this.fileName}:${line}:${col}: ${key === undefined ? '' : `${key}: `}${message}`);
  }
}

/** `invalid target "x": why` becomes `"x" why`, since the key already says it is a target. */
function targetProblem(message: string): string {
  return message.replace(/^invalid target ("(?:[^"\\]|\\.)*"): /, '$1 ');
}

function readList(row: SchemaRow, node: Node | null, at: Locator): string[] {
  if (!isSeq(node)) throw at.error(node ?? undefined, row.key, `expected a list, got ${JSON.stringify(isScalar(node) ? node.value : null)}`);
  const problem = checkListLength(row, node.items.length);
  if (problem !== undefined) throw at.error(node, row.key, problem);
  return node.items.map((item, i) => {
    const value = isScalar(item) ? item.value : undefined;
    const where = `${row.key}[${i}]`;
    if (typeof value !== 'string') throw at.error(item as Node, where, `expected ${row.type === 'targets' ? 'an address or prefix' : 'a name'}, got ${JSON.stringify(value ?? null)}`);
    if (row.type === 'targets') {
      try {
        parseTarget(value);
      } catch (error) {
        if (error instanceof UserError) throw at.error(item as Node, where, targetProblem(error.message));
        throw error;
      }
    }
    return value;
  });
}

function readValue(row: SchemaRow, node: Node | null, at: Locator): unknown {
  if (row.type === 'targets' || row.type === 'names') return readList(row, node, at);
  if (!isScalar(node)) throw at.error(node ?? undefined, row.key, isSeq(node) || isMap(node) ? 'expected a single value, got a collection' : 'expected a value');
  const checked = checkScalar(row, node.value);
  if ('error' in checked) throw at.error(node, row.key, checked.error);
  return checked.value;
}

/**
 * Parse and check a configuration file's text. Unknown keys, duplicate keys, wrong types and
 * targets that can never be proxied are errors (UserError, exit 2) naming line and column.
 */
export function parseConfigText(text: string, fileName: string): FileOptions {
  const lines = new LineCounter();
  const at = new Locator(fileName, lines);
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0];
    throw new UserError(`${fileName}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${first.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return {};
  if (!isMap(root)) throw at.error(root, undefined, 'expected keys such as "interface:" and "targets:" at the top level');
  const options: FileOptions = {};
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    const row = key === undefined ? undefined : schemaRow(key);
    if (row === undefined) {
      throw at.error(keyNode ?? undefined, undefined, `unknown key ${JSON.stringify(key ?? null)} (known: ${CONFIG_SCHEMA.map((r) => r.key).join(', ')})`);
    }
    // Checked here rather than by yaml, whose error points at the map instead of the repeat.
    if (row.option in options) throw at.error(keyNode ?? undefined, row.key, 'given twice');
    options[row.option] = readValue(row, pair.value as Node | null, at);
  }
  return options;
}
