/**
 * Benchmarks that measure a process as users run it must not carry a TypeScript loader: this
 * transpiles a bench script and the bench modules it imports (relative `.ts` imports, followed
 * recursively) to plain JavaScript under bench/results/.compiled/, where `@trellis/*` imports
 * resolve to the packages' compiled dist/ (run `npm run build` first; `npm run bench` does).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const BENCH = resolve(import.meta.dirname, '..');
const OUT = join(BENCH, 'results', '.compiled');

/** Returns the path of the compiled entry (a `.js` file Node runs without flags). */
export function compileBench(entry: string): string {
  const done = new Set<string>();
  const visit = (file: string) => {
    if (done.has(file)) return;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(OUT, relative(BENCH, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
    for (const m of source.matchAll(/from\s+'(\.{1,2}\/[^']+\.ts)'/g)) visit(resolve(dirname(file), m[1]!));
  };
  visit(resolve(entry));
  return join(OUT, relative(BENCH, resolve(entry))).replace(/\.ts$/, '.js');
}

/** The environment without the repository's source condition (so `@trellis/*` means dist/). */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}
