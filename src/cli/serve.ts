import { openSync, closeSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import type { Logger } from 'pino';
import { ConfigError, type ProxyConfig } from '../config/index.ts';
import { startGateway, type Gateway } from '../server/index.ts';
import type { CliOptions, Env } from './command.ts';
import { loadFromCli } from './load.ts';
import { commandLogger } from './logging.ts';

export async function runServe(options: CliOptions, env: Env): Promise<number> {
  const logger = commandLogger(options, env, 'info');
  const config = await loadFromCli(options, env);
  return serveUntilSignal(config, logger, undefined, () => loadFromCli(options, env));
}

type StopReason = NodeJS.Signals | 'POST /-/quit';

/**
 * Runs until SIGTERM or SIGINT (or SIGHUP from a terminal), then drains in-flight requests and
 * resolves with exit status 0.
 */
export async function serveUntilSignal(
  config: ProxyConfig,
  logger: Logger,
  onStarted?: (g: Gateway) => void,
  reloadConfig?: () => Promise<ProxyConfig>,
): Promise<number> {
  // Decided now: once the terminal is gone, the process no longer has it to look at.
  const hangupStops = hasControllingTerminal();
  const gateway = await startGateway(config, logger);
  // Written now, not at exit: a container killed rather than stopped still starts fast next time.
  flushCompileCache();
  onStarted?.(gateway);
  const onHangup = (): void => void reloadOnSignal(gateway, logger, reloadConfig);
  if (reloadConfig && !hangupStops) process.on('SIGHUP', onHangup);
  const reason = await new Promise<StopReason>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    if (hangupStops) process.once('SIGHUP', () => resolve('SIGHUP'));
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

/**
 * Started from a terminal, SIGHUP means the terminal went away: the proxy stops with it
 * rather than living on detached, holding the port and the credentials. Services and
 * containers have no controlling terminal, and there SIGHUP asks for a reload.
 */
export function hasControllingTerminal(): boolean {
  if (process.platform === 'win32') return true;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
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
