import { TokenKeeper } from '../tokens/index.ts';
import { createHttpAgent } from '../net/index.ts';
import { createLogger } from '../server/index.ts';
import pino from 'pino';
import { loadFromCli } from './load.ts';
import { UsageError, type CliOptions, type Env } from './run.ts';

/** Prints one fresh access token on stdout and nothing else, for scripts: `$(greenlake-proxy token)`. */
export async function runToken(options: CliOptions, env: Env): Promise<number> {
  const config = await loadFromCli(options, env);
  const client = options.client === undefined ? config.clients[0] : config.clients.find((c) => c.name === options.client);
  if (!client) {
    throw new UsageError(`--client: no client named "${options.client}" (clients: ${config.clients.map((c) => c.name).join(', ')})`);
  }
  const region = options.region ?? config.routes.find((r) => r.client === client.name)?.region ?? 'default';
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  const logger = createLogger(env.LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
  const keeper = new TokenKeeper({ client, region, tokens: config.tokens, timeouts: config.timeouts, dispatcher: agent, logger });
  try {
    process.stdout.write(`${await keeper.get()}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`greenlake-proxy: ${(err as Error).message}\n`);
    return 1;
  } finally {
    keeper.close();
    await agent.close();
  }
}
