import { flushCompileCache } from 'node:module';
import type { Logger } from 'pino';
import { ConfigError, type ProxyConfig } from '../config/index.ts';
import { createLogger, startGateway, type Gateway } from '../server/index.ts';
import { loadFromCli } from './load.ts';
import type { CliOptions, Env } from './run.ts';

export async function runServe(options: CliOptions, env: Env): Promise<number> {
  const config = await loadFromCli(options, env);
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  return serveUntilSignal(config, logger, undefined, () => loadFromCli(options, env));
}

/** Runs until SIGTERM or SIGINT, then drains in-flight requests and resolves with exit status 0. */
export async function serveUntilSignal(
  config: ProxyConfig,
  logger: Logger,
  onStarted?: (g: Gateway) => void,
  reloadConfig?: () => Promise<ProxyConfig>,
): Promise<number> {
  const gateway = await startGateway(config, logger);
  // Written now, not at exit: a container killed rather than stopped still starts fast next time.
  flushCompileCache();
  onStarted?.(gateway);
  const onHangup = (): void => void reloadOnSignal(gateway, logger, reloadConfig);
  if (reloadConfig) process.on('SIGHUP', onHangup);
  const reason = await new Promise<NodeJS.Signals | 'POST /-/quit'>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    void gateway.quitRequested.then(() => resolve('POST /-/quit'));
  });
  logger.info({ reason, graceMs: config.timeouts.shutdownGraceMs }, 'shutting down: finishing in-flight requests');
  const exitNow = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  };
  process.once('SIGTERM', exitNow);
  process.once('SIGINT', exitNow);
  process.off('SIGHUP', onHangup);
  await gateway.close();
  logger.info('stopped');
  logger.flush();
  return 0;
}

/** SIGHUP: read the configuration again; a bad one is refused and the one in force stays. */
async function reloadOnSignal(gateway: Gateway, logger: Logger, reloadConfig: (() => Promise<ProxyConfig>) | undefined): Promise<void> {
  if (!reloadConfig) return;
  let next: ProxyConfig;
  try {
    next = await reloadConfig();
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    logger.error({ problems }, 'SIGHUP: the new configuration is invalid; the current one stays in force');
    return;
  }
  try {
    await gateway.reload(next);
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'SIGHUP: applying the new configuration failed part-way; restart to be sure of the state');
  }
}
