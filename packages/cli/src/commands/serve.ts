/**
 * `trellis serve [--port 8080] [--host 127.0.0.1] [--db PATH] [--demo]`: the API, live streams,
 * the console and an embedded runner. Runs until SIGTERM/SIGINT, then shuts down gracefully
 * (running attempts get a grace period; anything unfinished resumes on the next start).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, startTrellisServer } from '@trellis/server';
import { isPostgresUrl, redactUrl } from '@trellis/store';
import { consoleDir, examplesDir, startDemoServices } from '../assets.ts';
import { signInLines } from './sign-in-banner.ts';

const USAGE = `Usage: trellis serve [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--db PATH] [--demo] [--grace-ms 10000]

Environment: TRELLIS_DB, TRELLIS_PORT, TRELLIS_HOST, TRELLIS_ADMIN_TOKEN, TRELLIS_ALLOW_HOSTS, TRELLIS_LOG_LEVEL,
             TRELLIS_RATE_LIMIT (requests per minute per principal, default 6000),
             TRELLIS_METRICS_PUBLIC=1 (serve /metrics without a token; by default it needs one)
`;

export async function serve(argv: string[]): Promise<number> {
  let values: { port?: string; host?: string; db?: string; demo?: boolean; help?: boolean; 'grace-ms'?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        demo: { type: 'boolean' },
        'grace-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`trellis serve: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = process.env;
  const portText = values.port ?? env.TRELLIS_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    process.stderr.write(`trellis serve: --port must be a number from 0 to 65535, got '${portText}'\n`);
    return 2;
  }
  const graceText = values['grace-ms'] ?? '10000';
  if (!/^\d+$/.test(graceText)) {
    process.stderr.write(`trellis serve: --grace-ms must be a number of milliseconds, got '${graceText}'\n`);
    return 2;
  }
  const db = values.db ?? env.TRELLIS_DB ?? DEFAULT_DB;
  const host = values.host ?? env.TRELLIS_HOST ?? DEFAULT_HOST;
  const rateText = env.TRELLIS_RATE_LIMIT;
  if (rateText !== undefined && !/^[1-9]\d*$/.test(rateText)) {
    process.stderr.write(
      `trellis serve: TRELLIS_RATE_LIMIT must be a positive number of requests per minute, got '${rateText}'\n`,
    );
    return 2;
  }
  const metricsText = env.TRELLIS_METRICS_PUBLIC ?? '';
  if (!['', '0', '1', 'true', 'false'].includes(metricsText)) {
    process.stderr.write(`trellis serve: TRELLIS_METRICS_PUBLIC must be 1/true or 0/false, got '${metricsText}'\n`);
    return 2;
  }
  let running: Awaited<ReturnType<typeof startTrellisServer>>;
  try {
    running = await startTrellisServer({
      db,
      host,
      port,
      demo: values.demo === true,
      consoleDir: consoleDir(),
      examplesDir: examplesDir(),
      demoServices: startDemoServices,
      adminToken: env.TRELLIS_ADMIN_TOKEN || undefined,
      graceMs: Number(graceText),
      logger: { level: env.TRELLIS_LOG_LEVEL ?? 'info' },
      publicMetrics: metricsText === '1' || metricsText === 'true',
      ...(rateText ? { limits: { requestsPerMinute: Number(rateText) } } : {}),
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const hint = e.code === 'EADDRINUSE' ? ` (port ${port} is taken; pass --port)` : '';
    process.stderr.write(`trellis serve: ${e.message ?? String(err)}${hint}\n`);
    return 1;
  }
  const lines = [
    `Trellis is serving at ${running.url}  (API ${running.url}/api/v1, docs ${running.url}/api/v1/docs)`,
    // A PostgreSQL URL carries its password: the banner (often kept in a log) shows it redacted.
    `Database: ${isPostgresUrl(db) ? redactUrl(db) : db}`,
  ];
  lines.push(...(await signInLines(running, db, process.stdout.isTTY === true)));
  if (values.demo) {
    lines.push(
      'Demo: agents and an MCP server are running on loopback, with example workflows.',
      "  In the console open 'demo-hotel-trip' and press Run: four agents and an MCP tool, a branch, parallel calls and an approval gate.",
    );
    if (running.demoPeer?.registered)
      lines.push(
        `  A second Trellis instance serves 'demo-peer-booking-desk' at ${running.demoPeer.instance.url} (its admin API token is in ${running.demoPeer.instance.adminTokenFile}).`,
        "  Open 'demo-trellis-calls-trellis' and press Run: its node 'book' calls that workflow on the second instance over A2A; approve its question on that node.",
      );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolveSignal) => {
    const stop = (signal: string) => {
      process.stderr.write(`trellis serve: ${signal} received, shutting down gracefully\n`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolveSignal();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await running.close();
  process.stderr.write('trellis serve: stopped\n');
  return 0;
}
