/** Issues GreenLake-shaped access tokens, remembers which are live, verifies bearer tokens. */
import { createHash, randomUUID } from 'node:crypto';
import { errors } from 'jose';
import type { JWTPayload } from 'jose';
import { TOKEN_AUDIENCE } from './keys.ts';
import type { SigningKeys } from './keys.ts';

export interface TokenSubject {
  clientId: string;
  /** User e-mail. */
  sub: string;
  /** Workspace (platform customer) id, hex without hyphens. */
  workspaceId: string;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

/** classic: /as/token.oauth2 (7199 s, api-v1.1); workspace: /authorization/v2/oauth2/<ws>/token (900 s, api-v1.2). */
export type IssuerKind = 'classic' | 'workspace';

export interface Lifetimes {
  classic: number;
  workspace: number;
}

export interface IssueOptions {
  kind: IssuerKind;
  /** The JWT's exp is iat + this instead of the lifetime (a fault: `expires_in` and `exp` then differ). */
  expSeconds?: number;
}

const TOKEN_TYPES: Record<IssuerKind, string> = { classic: 'api-v1.1', workspace: 'api-v1.2' };

export type Verdict =
  | { ok: true; subject: TokenSubject }
  | { ok: false; message: string };

/** Stands in for the GreenLake application instance the API client belongs to. */
const APPLICATION_INSTANCE_ID = '3d6e4f2a-8b1c-4e5d-9f7a-0c2b1a3e4d5f';

export class TokenIssuer {
  #keys: SigningKeys;
  /** jti of every token that is neither revoked nor forgotten; tokens expire on their own. */
  #liveTokenIds = new Set<string>();
  lifetimes: Lifetimes;

  constructor(keys: SigningKeys, lifetimes: Lifetimes) {
    this.#keys = keys;
    this.lifetimes = { ...lifetimes };
  }

  async issue(subject: TokenSubject, issuer: string, options: IssueOptions): Promise<IssuedToken> {
    const lifetime = this.lifetimes[options.kind];
    const iat = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const claims: JWTPayload = {
      client_id: subject.clientId,
      iss: issuer,
      aud: TOKEN_AUDIENCE,
      sub: subject.sub,
      user_ctx: stableHex(`user:${subject.clientId}:${subject.workspaceId}`),
      auth_source: 'cca',
      platform_customer_id: subject.workspaceId,
      application_instance_id: APPLICATION_INSTANCE_ID,
      iat,
      exp: iat + (options.expSeconds ?? lifetime),
      jti,
      hpe_token_type: TOKEN_TYPES[options.kind],
      hpe_organization_id: subject.workspaceId,
    };
    const accessToken = await this.#keys.sign(claims);
    this.#liveTokenIds.add(jti);
    return { accessToken, expiresIn: lifetime };
  }

  async verify(token: string | undefined, issuer: string): Promise<Verdict> {
    if (token === undefined) return { ok: false, message: 'Missing bearer token' };
    let claims: JWTPayload;
    try {
      claims = await this.#keys.verify(token, issuer);
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, message: 'Token has expired' };
      return { ok: false, message: 'Invalid token' };
    }
    if (typeof claims.jti !== 'string' || !this.#liveTokenIds.has(claims.jti)) {
      return { ok: false, message: 'Token has been revoked' };
    }
    return { ok: true, subject: subjectOf(claims) };
  }

  revokeAll(): void {
    this.#liveTokenIds.clear();
  }
}

/** The workspace a client's tokens name when it asks the classic endpoint (no workspace in the URL). */
export function defaultWorkspaceId(clientId: string): string {
  return stableHex(`workspace:${clientId}`);
}

function stableHex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

function subjectOf(claims: JWTPayload): TokenSubject {
  return {
    clientId: String(claims['client_id']),
    sub: String(claims.sub),
    workspaceId: String(claims['hpe_organization_id']),
  };
}
