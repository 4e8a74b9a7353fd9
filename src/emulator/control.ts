/**
 * Control over HTTP for an emulator run from the CLI. Emulator-only, NOT part of
 * GreenLake; no bearer needed (the emulator listens on loopback by default).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context.ts';
import { checkSettingsUpdate, SettingsError } from './settings.ts';
import type { SettingsUpdate } from './settings.ts';
import { readSmallBody } from './streams.ts';

const MAX_CONTROL_BODY_BYTES = 64 * 1024;

export function registerControlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  // ?last=N answers only the newest N of each list: a long run's journal is never sent whole unless asked.
  app.get('/_emulator/journal', (request, reply) => {
    const last = lastParam(request);
    if (last === null) return badRequest(reply, 'last must be a positive integer');
    return ctx.journal.redacted(last);
  });
  app.get('/_emulator/counts', () => ctx.journal.counts());
  app.post('/_emulator/revoke', async (_request, reply) => {
    ctx.issuer.revokeAll();
    return reply.code(204).send();
  });
  app.post('/_emulator/faults', async (request, reply) => {
    const update = await readSettingsUpdate(request);
    if (update instanceof SettingsError) return badRequest(reply, update.message);
    applySettings(ctx, update);
    return reply.code(204).send();
  });
  app.post('/_emulator/reset', async (_request, reply) => {
    ctx.resetToDefaults();
    return reply.code(204).send();
  });
}

async function readSettingsUpdate(request: FastifyRequest): Promise<SettingsUpdate | SettingsError> {
  const body = await readSmallBody(request.raw, MAX_CONTROL_BODY_BYTES);
  if (body === undefined) return new SettingsError('body too large');
  try {
    return checkSettingsUpdate(JSON.parse(body.toString('utf8')));
  } catch (error) {
    if (error instanceof SettingsError) return error;
    return new SettingsError('body must be JSON');
  }
}

export function applySettings(ctx: EmulatorContext, update: SettingsUpdate): void {
  if (update.token !== undefined) ctx.tokenFault.set(update.token ?? undefined);
  if (update.api !== undefined) ctx.apiFault.set(update.api ?? undefined);
  if (update.rateLimit !== undefined) ctx.rateLimiter.set(update.rateLimit ?? undefined);
  if (update.async !== undefined) ctx.asyncFault.set(update.async ?? undefined);
  if (update.publishedRateLimits !== undefined) ctx.rateLimiter.setPublished(update.publishedRateLimits);
  if (update.retryAfterOn429 !== undefined) ctx.setRetryAfterOn429(update.retryAfterOn429);
  if (update.tokenLifetimeSeconds !== undefined) ctx.setTokenLifetime(update.tokenLifetimeSeconds);
}

/** undefined: absent (everything kept); null: not a positive integer. */
function lastParam(request: FastifyRequest): number | undefined | null {
  const raw = (request.query as Record<string, unknown>)['last'];
  if (raw === undefined) return undefined;
  return typeof raw === 'string' && /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : null;
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: 'invalid_settings', message });
}
