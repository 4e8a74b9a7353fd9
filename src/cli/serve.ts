import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/index.ts';
import { createLogger, startGateway, type Gateway } from '../server/index.ts';
import { loadFromCli } from './load.ts';
import type { CliOptions, Env } from './run.ts';

export async function runServe(options: CliOptions, env: Env): Promise<number> {
  const config = await loadFromCli(options, env);
  const logger = createLogger(env.LOG_LEVEL ?? 'info');
  return serveUntilSignal(config, logger);
}

/** Runs until SIGTERM or SIGINT, then drains in-flight requests and resolves with exit status 0. */
export async function serveUntilSignal(config: ProxyConfig, logger: Logger, onStarted?: (g: Gateway) => void): Promise<number> {
  const gateway = await startGateway(config, logger);
  onStarted?.(gateway);
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
  await gateway.close();
  logger.info('stopped');
  logger.flush();
  return 0;
}
