import type { Server } from 'node:net';

/**
 * Connections one HTTP process takes: open in all, open from one IP address, and new ones from one
 * IP address a second (0: no cap per address, no rate).
 */
export interface ConnectionCaps {
  readonly max: number;
  readonly perIp: number;
  readonly newPerSecondPerIp?: number;
}

/**
 * A token bucket per IP address: `perSecond` tokens a second, holding at most `perSecond` (a burst of
 * a second's worth). An address whose bucket is full is forgotten, so the map holds only addresses
 * that connected within the last second or so.
 */
class ConnectionRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  /** Whether a new connection from `address` may be taken now; takes a token if so. */
  take(address: string, now = performance.now()): boolean {
    if (this.buckets.size > 10_000) this.forgetFull(now);
    const bucket = this.buckets.get(address);
    const tokens = bucket
      ? Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond)
      : this.perSecond;
    if (tokens < 1) return false;
    this.buckets.set(address, { tokens: tokens - 1, at: now });
    return true;
  }

  private forgetFull(now: number): void {
    for (const [address, bucket] of this.buckets)
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.perSecond) this.buckets.delete(address);
  }
}

/**
 * Caps a listener's connections. Over `max` open, Node closes a new connection itself
 * (`server.maxConnections`); over `perIp` open from one address, or past that address's rate of new
 * connections, it is closed here as it is accepted, before a TLS handshake (a private-key operation)
 * or a byte of HTTP costs anything. Either way the peer sees the connection closed unanswered. The
 * counts are this process's: with HTTP_PROCESSES > 1 each process has its own.
 */
export function capConnections(server: Server, caps: ConnectionCaps): void {
  server.maxConnections = caps.max;
  const rate = caps.newPerSecondPerIp ? new ConnectionRate(caps.newPerSecondPerIp) : undefined;
  if (caps.perIp === 0 && !rate) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if ((caps.perIp !== 0 && count >= caps.perIp) || (rate && !rate.take(address))) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
