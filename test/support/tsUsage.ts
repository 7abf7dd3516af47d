// Who uses a declaration: the TypeScript checker over the project's own sources, so a use is a
// resolved reference to that very property (not a same-named one elsewhere, not a comment).
// Used by the docsDrift.* tests to show that documented metrics are set and config keys are read.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const ROOT = new URL('../../', import.meta.url).pathname;

const sourcesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(ROOT, dir, e.name)] : []);

export type Use = { readonly file: string; readonly line: number; readonly node: ts.Node };

export type Usage = {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The source file at a path relative to the repository. */
  readonly file: (path: string) => ts.SourceFile;
  /** Every reference in the program's files under `dirs` to any of `declarations`, keyed by declaration. */
  readonly usesOf: (declarations: readonly ts.Declaration[], dirs: readonly string[]) => Map<ts.Declaration, Use[]>;
};

/** A program over every .ts file under `dirs` (and what they import), with the repository's compiler options. */
export const usage = (dirs: readonly string[]): Usage => {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error('cannot read tsconfig.json');
  const program = ts.createProgram(dirs.flatMap(sourcesUnder), { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const file = (path: string): ts.SourceFile => {
    const f = program.getSourceFile(join(ROOT, path));
    if (f === undefined) throw new Error(`${path} is not in the program`);
    return f;
  };

  /** The property symbol an identifier names: `x.key`, `{ key } = x`, `{ key: y } = x`, `x['key']`. */
  const propertyOf = (id: ts.Identifier | ts.StringLiteral): ts.Symbol | undefined => {
    const parent = id.parent;
    if (ts.isBindingElement(parent) && (parent.propertyName ?? parent.name) === id && ts.isObjectBindingPattern(parent.parent)) {
      return checker.getTypeAtLocation(parent.parent).getProperty(id.text);
    }
    if (ts.isStringLiteral(id)) {
      return ts.isElementAccessExpression(parent) && parent.argumentExpression === id
        ? checker.getTypeAtLocation(parent.expression).getProperty(id.text)
        : undefined;
    }
    const symbol = checker.getSymbolAtLocation(id);
    // An imported name: the declaration it imports.
    return symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol;
  };

  const usesOf = (declarations: readonly ts.Declaration[], under: readonly string[]): Map<ts.Declaration, Use[]> => {
    const wanted = new Set<ts.Node>(declarations);
    const found = new Map<ts.Declaration, Use[]>(declarations.map((d) => [d, []]));
    const roots = under.map((d) => join(ROOT, d));
    for (const source of program.getSourceFiles()) {
      if (!roots.some((r) => source.fileName.startsWith(r))) continue;
      const visit = (node: ts.Node): void => {
        if (ts.isIdentifier(node) || ts.isStringLiteral(node)) {
          const symbol = propertyOf(node);
          for (const d of symbol?.declarations ?? []) {
            // A declaration is not a use of itself.
            if (wanted.has(d) && (d as ts.NamedDeclaration).name !== node) {
              found.get(d)?.push({ file: relative(ROOT, source.fileName), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, node });
            }
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    return found;
  };
  return { program, checker, file, usesOf };
};

/** The nearest enclosing node that satisfies `test`. */
export const enclosing = <T extends ts.Node>(node: ts.Node, test: (n: ts.Node) => n is T): T | undefined => {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) if (test(n)) return n;
  return undefined;
};
