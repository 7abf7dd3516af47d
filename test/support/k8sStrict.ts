// Strict checking of Kubernetes manifests: the JSON schemas Kubernetes publishes allow unknown
// fields (a misspelt `readinessprobe` would pass, and the API server would drop it), so each
// manifest is also type-checked as an object literal of its kubernetes-models interface, where
// TypeScript refuses every property the type does not declare, at any depth.
import { join } from 'node:path';
import ts from 'typescript';

export type Manifest = { readonly label: string; readonly apiVersion: string; readonly kind: string; readonly doc: unknown };

/** kind → the module and interface kubernetes-models declares it in. */
const TYPES: Record<string, { module: string; type: string }> = {
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
};

/** Every problem TypeScript finds, as `<label>: <message>`; empty when every manifest fits its type. */
export const strictProblems = (manifests: readonly Manifest[]): string[] => {
  const kinds = [...new Set(manifests.map((m) => `${m.apiVersion}/${m.kind}`))];
  const unknownKind = kinds.filter((k) => TYPES[k] === undefined);
  if (unknownKind.length > 0) return unknownKind.map((k) => `no type for ${k}`);
  const imports = kinds.map((k) => `import type { ${TYPES[k]?.type ?? ''} } from '${TYPES[k]?.module ?? ''}';`);
  // One manifest per line, after the imports: a diagnostic's line says which manifest it is about.
  const body = manifests.map((m, i) => `export const m${i}: ${TYPES[`${m.apiVersion}/${m.kind}`]?.type ?? ''} = ${JSON.stringify(m.doc)};`);
  const file = join(process.cwd(), 'test', 'support', '.k8s-strict-check.ts');
  const text = [...imports, ...body].join('\n');
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? text : readFile(name));
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file);
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const line = d.start === undefined || source === undefined ? -1 : source.getLineAndCharacterOfPosition(d.start).line - imports.length;
    return `${manifests[line]?.label ?? 'imports'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
};
