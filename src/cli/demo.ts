import path from 'node:path';
import { catalog, parseConfig } from '../config/index.ts';
import { DEMO_CLIENT, startEmulator } from '../emulator/index.ts';
import { UsageError, type CliOptions, type Env } from './command.ts';
import { commandLogger } from './logging.ts';
import { serveUntilSignal } from './serve.ts';

/** The emulator and the proxy wired together: every catalog route leads to the emulator. */
export async function runDemo(options: CliOptions, env: Env): Promise<number> {
  const logger = commandLogger(options, env, 'info');
  if (options.socket !== undefined && (options.host !== undefined || options.port !== undefined)) {
    throw new UsageError('--socket: not with --host or --port (the socket replaces host:port)');
  }
  // HPE's published per-API limits on, as GreenLake would answer (headers included).
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, publishedRateLimits: true });
  const config = parseConfig(
    {
      listen: options.socket === undefined ? { host: options.host ?? '127.0.0.1', port: options.port ?? 8080 } : { socket: path.resolve(options.socket) },
      inbound: { allowUnauthenticated: options.allowUnauthenticated },
      clients: [
        {
          name: 'demo',
          clientId: DEMO_CLIENT.clientId,
          clientSecret: DEMO_CLIENT.clientSecret,
          tokenUrl: emulator.tokenUrl,
        },
      ],
      routes: catalog.map((entry) => ({ prefix: entry.prefix, upstream: emulator.url })),
    },
    env,
    'demo',
  );
  try {
    return await serveUntilSignal(config, logger, (gateway) => {
      const base = options.socket === undefined ? gateway.url : 'http://localhost';
      const curl = options.socket === undefined ? 'curl' : `curl --unix-socket ${path.resolve(options.socket)}`;
      process.stdout.write(
        [
          '',
          `greenlake-proxy demo: the proxy on ${gateway.url}, a GreenLake emulator behind it on ${emulator.url}.`,
          'No credentials needed on your side; the proxy fetches and refreshes tokens. Try:',
          '',
          `  ${curl} '${base}/com/us-west/compute-ops-mgmt/v1/servers?limit=2'`,
          `  ${curl} '${base}/com/us-west/compute-ops-mgmt/v1/servers/P07595-B21%2BMXQ1140XVX'`,
          `  ${curl} '${base}/dscc/us1/api/v1/volumes?offset=0&limit=3'`,
          `  ${curl} '${base}/glp/global/devices/v1/devices'`,
          `  ${curl} -i -X POST '${base}/glp/global/devices/v1/devices' -H 'content-type: application/json' -d '{"network":[{"serialNumber":"SN123","macAddress":"00:11:22:33:44:55"}]}'`,
          `  ${curl} '${base}/glp/global/audit-log/v1/logs?limit=2'`,
          `  ${curl} '${base}/-/status'`,
          '',
          'Ctrl-C stops both.',
          '',
        ].join('\n'),
      );
    });
  } finally {
    await emulator.close();
  }
}
