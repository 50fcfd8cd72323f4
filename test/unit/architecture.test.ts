/**
 * The shape rules of CONTRIBUTING.md, checked on the TypeScript syntax tree so that later work keeps
 * them: dependencies point inward, listeners stay thin, no function grows past what a reader can hold.
 * Each failure names the file (and function) and the budget it broke.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

function filesUnder(dir: string, ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return filesUnder(full, ext);
    return full.endsWith(ext) ? [full] : [];
  });
}

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');
const lineCount = (file: string) => {
  const text = readFileSync(file, 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
};

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

interface FunctionSize {
  file: string;
  name: string;
  lines: number;
}

/** Every function with a body (declarations, methods, arrows, nested ones too) and its length in lines. */
function functionSizes(file: string): FunctionSize[] {
  const source = parse(file);
  const sizes: FunctionSize[] = [];
  const nameOf = (node: ts.FunctionLikeDeclaration): string => {
    if (node.name) return node.name.getText(source);
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))
      return parent.name.getText(source);
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    return `<anonymous at line ${line + 1}>`;
  };
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      sizes.push({
        file: rel(file),
        name: nameOf(node as ts.FunctionLikeDeclaration),
        lines: end - start + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sizes;
}

/** The project files a module imports (values and types; static, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const source = parse(file);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) specifiers.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => rel(path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts'))));
}

const sourceFiles = filesUnder(SRC);

describe('size budgets', () => {
  test('no function in src/ is over 150 lines', () => {
    const tooLong = sourceFiles
      .flatMap(functionSizes)
      .filter((f) => f.lines > 150)
      .map((f) => `${f.file} ${f.name}: ${f.lines} lines`);
    expect(tooLong).toEqual([]);
  });

  test('the composition root reads in one screen: src/app.ts at most 150 lines, createBot at most 60', () => {
    const app = path.join(SRC, 'app.ts');
    expect(lineCount(app)).toBeLessThanOrEqual(150);
    const createBot = functionSizes(app).find((f) => f.name === 'createBot');
    expect(createBot).toBeDefined();
    expect(createBot?.lines).toBeLessThanOrEqual(60);
  });

  test('runRequest is at most 80 lines, as named steps', () => {
    const runRequest = functionSizes(path.join(SRC, 'scheduling/run-request.ts')).find(
      (f) => f.name === 'runRequest',
    );
    expect(runRequest).toBeDefined();
    expect(runRequest?.lines).toBeLessThanOrEqual(80);
  });

  test('no file under src/slack/listeners/ is over 120 lines', () => {
    const tooLong = filesUnder(path.join(SRC, 'slack/listeners'))
      .map((f) => [rel(f), lineCount(f)] as const)
      .filter(([, lines]) => lines > 120)
      .map(([f, lines]) => `${f}: ${lines} lines`);
    expect(tooLong).toEqual([]);
  });

  test('src/slack/ has at most 10 files at its top level', () => {
    const top = readdirSync(path.join(SRC, 'slack')).filter((name) =>
      statSync(path.join(SRC, 'slack', name)).isFile(),
    );
    expect(top.length).toBeLessThanOrEqual(10);
  });

  test('the README is at most 300 lines, docs/benchmarks.md at most 200, bench/ at most 2,810 lines of code', () => {
    expect(lineCount(path.join(ROOT, 'README.md'))).toBeLessThanOrEqual(300);
    expect(lineCount(path.join(ROOT, 'docs/benchmarks.md'))).toBeLessThanOrEqual(200);
    const bench = filesUnder(path.join(ROOT, 'bench'), '')
      .filter((f) => /\.(ts|mjs|js)$/.test(f) && !rel(f).startsWith('bench/results/'))
      .reduce((sum, f) => sum + lineCount(f), 0);
    // 2,500 until the `npm start` figure (bench/npm-start.ts, issue 22) took the bench to 2,586; 2,600
    // until Redis as a third store and the post p99 and ack targets (issue 23) took it to 2,702; 2,720
    // until the kernel's part of the CPU and the memory-reducing GC read (issue 23) took it to 2,726;
    // 2,740 until the probe's forced GC was reported apart from the CPU per request (2,757); 2,760
    // until the store servers' CPU per phase (issue 23: PostgreSQL's own work was the cause) (2,810).
    expect(bench).toBeLessThanOrEqual(2_810);
  });
});

describe('dependencies point inward', () => {
  test('listeners import nothing (values or types) from the store, the audit trail, access or Katapult', () => {
    const forbidden = ['src/store/', 'src/audit/', 'src/access/', 'src/katapult/'];
    const offending = filesUnder(path.join(SRC, 'slack/listeners')).flatMap((file) =>
      importsOf(file)
        .filter((target) => forbidden.some((dir) => target.startsWith(dir)))
        .map((target) => `${rel(file)} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });

  test('nothing under src/messages/ imports src/slack/', () => {
    const offending = filesUnder(path.join(SRC, 'messages')).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('src/slack/'))
        .map((target) => `${rel(file)} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });

  test('use cases, the Katapult client and the store never import Slack adapters', () => {
    const inner = ['scheduling', 'katapult', 'store', 'access', 'audit', 'messages', 'time', 'tokens'];
    const offending = inner.flatMap((dir) =>
      filesUnder(path.join(SRC, dir)).flatMap((file) =>
        importsOf(file)
          .filter((target) => target.startsWith('src/slack/') || target === 'src/app.ts')
          .map((target) => `${rel(file)} imports ${target}`),
      ),
    );
    expect(offending).toEqual([]);
  });
});

describe('one way to wait', () => {
  test('timeouts go through within() (src/deadline.ts), not hand-written Promise.race timers', () => {
    const races = sourceFiles
      .filter((f) => rel(f) !== 'src/deadline.ts')
      .filter((f) => /Promise\.race\(/.test(readFileSync(f, 'utf8')))
      .map(rel);
    expect(races).toEqual([]);
  });
});

describe('the checks can fail', () => {
  test('functionSizes and importsOf see what they are meant to', () => {
    // This file itself: `functionSizes` is a function of more than 10 lines, and it imports typescript
    // (a package, not a project file), so no project import is reported.
    const here = path.join(ROOT, 'test/unit/architecture.test.ts');
    const self = functionSizes(here).find((f) => f.name === 'functionSizes');
    expect(self?.lines).toBeGreaterThan(10);
    expect(importsOf(path.join(SRC, 'app.ts')).length).toBeGreaterThan(3);
  });
});
