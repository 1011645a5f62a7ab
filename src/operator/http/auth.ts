import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-json.js';

/** `read` may look; `operator` may also replay, purge, pause, resume and add. */
export type AdminRole = 'read' | 'operator';

export interface Caller {
  readonly role: AdminRole;
  /** Who, for the audit log: `api:<role>`, with the name the dashboard user typed in parentheses. */
  readonly actor: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compares in constant time: equal-length digests, so neither content nor length leaks. */
const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** A name to show beside the role in the audit log; the role, not the name, is what grants access. */
function claimedName(req: IncomingMessage): string | undefined {
  const raw = req.headers['x-operator-name'];
  const name = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return name && /^[\p{L}\p{N} ._@-]{1,64}$/u.test(name) ? name : undefined;
}

/**
 * The caller of an admin request, from `Authorization: Bearer <token>`: 401 without a known token,
 * 403 when the route needs the operator role and the token is the read-only one.
 */
export function authoriseOperator(
  req: IncomingMessage,
  tokens: { readonly read: string; readonly operator: string },
  needs: AdminRole,
): Caller {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  const role: AdminRole | undefined =
    token === undefined
      ? undefined
      : same(token, tokens.operator)
        ? 'operator'
        : same(token, tokens.read)
          ? 'read'
          : undefined;
  if (!role) throw new HttpError(401, 'a valid bearer token is required');
  if (needs === 'operator' && role !== 'operator')
    throw new HttpError(403, 'this needs the operator token; the read-only token may only look');
  const name = claimedName(req);
  return { role, actor: `api:${role}${name ? ` (${name})` : ''}` };
}
