import type { Server } from 'node:net';

/** Open connections one HTTP process takes: in all, and from one IP address (0: no cap per address). */
export interface ConnectionCaps {
  readonly max: number;
  readonly perIp: number;
}

/**
 * Caps a listener's open connections. Over `max`, Node closes a new connection itself
 * (`server.maxConnections`); over `perIp` from one address, it is closed here as it is accepted,
 * before a TLS handshake or a byte of HTTP costs anything. Either way the peer sees the connection
 * closed unanswered. The counts are this process's: with HTTP_PROCESSES > 1 each process has its own.
 */
export function capConnections(server: Server, caps: ConnectionCaps): void {
  server.maxConnections = caps.max;
  if (caps.perIp === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= caps.perIp) {
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
