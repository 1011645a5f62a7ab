import type { IncomingMessage } from 'node:http';

/** How long the answer stays readable once the sender has sent all that is discarded. */
const GRACE_MS = 1000;

/**
 * After a request was answered before its body was read whole (too large, or refused on its sender):
 * reads and discards the rest of the body, so that the connection closes only after the sender has
 * sent it and can read its answer. Closing at once reset the connection under a sender still
 * uploading, and a client that sends its whole body before it reads (Python's http.client, many SOAP
 * stacks) saw a broken pipe where its fault was waiting. Bounded: past `discardBytes` more it reads
 * no further and closes the connection a second later (the upload stalls, the answer stays readable),
 * and `lingerMs` after the answer at the latest.
 */
export function lingerAfterAnswer(req: IncomingMessage, discardBytes: number, lingerMs: number): void {
  if (req.complete) return;
  let discarded = 0;
  const close = (): void => {
    stop();
    req.socket.destroy();
  };
  const deadline = Date.now() + lingerMs;
  let timer = setTimeout(close, lingerMs);
  timer.unref();
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.socket.off('close', stop);
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded <= discardBytes) return;
    // Closing now would reset the connection and with it an answer the sender has not read yet.
    req.off('data', onData);
    req.pause();
    clearTimeout(timer);
    timer = setTimeout(close, Math.min(GRACE_MS, deadline - Date.now()));
    timer.unref();
  };
  req.on('data', onData);
  req.once('end', stop);
  req.socket.once('close', stop);
  req.resume();
}
