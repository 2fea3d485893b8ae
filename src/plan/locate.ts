import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { SourceLocation } from '../errors.js';

export type PlanPath = readonly (string | number)[];

/** A parsed YAML document that can say where any key path stands in the file. */
export interface LocatedDocument {
  readonly data: unknown;
  readonly syntaxErrors: readonly { message: string; location: SourceLocation }[];
  /** Where the value at `path` stands (or, if absent, the nearest parent that exists). */
  locate(path: PlanPath): SourceLocation | undefined;
  /** Where the key at the end of `path` stands: for "unknown key" errors. */
  locateKey(path: PlanPath): SourceLocation | undefined;
}

export function parseLocated(text: string, file: string): LocatedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  const syntaxErrors = doc.errors.map((e) => ({
    message: e.message.split('\n')[0] ?? e.message,
    location: at(e.pos[0]),
  }));
  const data = syntaxErrors.length > 0 ? undefined : plainData(doc, at, syntaxErrors);

  const find = (path: PlanPath, preferKey: boolean): SourceLocation | undefined => {
    // Walk down as far as the path exists; an error about a missing key points at its parent.
    let node: Node | null | undefined = doc.contents;
    let keyNode: Node | undefined;
    let walked = 0;
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        keyNode = pair.key as Node;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof step === 'number' && node.items[step]) {
        keyNode = undefined;
        node = node.items[step] as Node;
      } else {
        break;
      }
      walked += 1;
    }
    // A scalar that was reached is the most precise place (the misspelt transform name, say); else the key.
    const target = walked === path.length && isScalar(node) && !preferKey ? node : (keyNode ?? node);
    return target?.range ? at(target.range[0]) : undefined;
  };
  return {
    data,
    syntaxErrors,
    locate: (path) => find(path, false),
    locateKey: (path) => find(path, true),
  };
}

/**
 * The document as plain data. Aliases that expand to too much (a "billion laughs" plan) are refused as a
 * syntax error at the first alias, rather than allocated or thrown as an internal error.
 */
function plainData(
  doc: Document,
  at: (offset: number) => SourceLocation,
  syntaxErrors: { message: string; location: SourceLocation }[],
): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (!(error instanceof ReferenceError) && !/alias/i.test((error as Error).message)) throw error;
    let offset = 0;
    visit(doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    syntaxErrors.push({
      message: 'the aliases (*name) expand to too much data: a plan needs few of them',
      location: at(offset),
    });
    return undefined;
  }
}
