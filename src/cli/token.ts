import { createHttpAgent } from '../net/index.ts';
import type { CliOptions, Env } from './command.ts';
import { loadFromCli } from './load.ts';
import { commandLogger } from './logging.ts';
import { chosenClient, chosenRegion, chosenTenant, clientKeepers, shownUrl, tenantTokenUrl } from './tokens.ts';

/** Prints one fresh access token on stdout and nothing else, for scripts: `$(greenlake-proxy token)`. */
export async function runToken(options: CliOptions, env: Env): Promise<number> {
  const logger = commandLogger(options, env, 'warn', 'stderr');
  const config = await loadFromCli(options, env);
  const client = chosenClient(config, options.client);
  const tenant = chosenTenant(client, options.tenant);
  const region = chosenRegion(config, client, options.region);
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  const keepers = clientKeepers(config, client, region, agent, logger);
  try {
    const keeper = tenant === undefined ? keepers.own : keepers.tenant(tenant);
    process.stdout.write(`${await keeper.get()}\n`);
    return 0;
  } catch (err) {
    const endpoint = tenant === undefined ? client.tokenUrl : tenantTokenUrl(client, tenant);
    process.stderr.write(`greenlake-proxy: ${shownUrl(endpoint)}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    keepers.close();
    await agent.close();
  }
}
