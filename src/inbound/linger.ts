import type { IncomingMessage } from 'node:http';

/**
 * After a request was answered before its body was read whole (too large, or refused on its sender):
 * reads and discards the rest of the body, so that the connection closes only after the sender has
 * sent it and can read its answer. Closing at once reset the connection under a sender still
 * uploading, and a client that sends its whole body before it reads (Python's http.client, many SOAP
 * stacks) saw a broken pipe where its fault was waiting. Bounded: past `discardBytes` more, or
 * `lingerMs` after the answer, the connection is closed anyway.
 */
export function lingerAfterAnswer(req: IncomingMessage, discardBytes: number, lingerMs: number): void {
  if (req.complete) return;
  let discarded = 0;
  const close = (): void => {
    stop();
    req.socket.destroy();
  };
  const timer = setTimeout(close, lingerMs);
  timer.unref();
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > discardBytes) close();
  };
  req.on('data', onData);
  req.once('end', stop);
  req.socket.once('close', stop);
  req.resume();
}
