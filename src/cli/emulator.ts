import { DEMO_CLIENT, startEmulator } from '../emulator/index.ts';
import type { CliOptions, Env } from './command.ts';

export const EMULATOR_DEFAULT_PORT = 9080;

/** Runs the GreenLake emulator alone until SIGINT/SIGTERM. */
export async function runEmulator(options: CliOptions, _env: Env): Promise<number> {
  const emulator = await startEmulator({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? EMULATOR_DEFAULT_PORT,
    // As GreenLake answers: HPE's published per-API rate limits (tests start emulators without them).
    publishedRateLimits: true,
  });
  process.stdout.write(
    [
      `GreenLake emulator listening on ${emulator.url}`,
      `  token URL      ${emulator.tokenUrl}`,
      `  JWKS           ${emulator.jwksUrl}`,
      `  client ID      ${DEMO_CLIENT.clientId}`,
      `  client secret  ${DEMO_CLIENT.clientSecret}   (the emulator's own demo credential)`,
      `  journal        ${emulator.url}/_emulator/journal?last=100   (counts: ${emulator.url}/_emulator/counts)`,
      '',
      'Point a route at it with `upstream: ' + emulator.url + '` and the client above; Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  return 0;
}
