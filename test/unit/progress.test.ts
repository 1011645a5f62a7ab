import { PassThrough } from 'node:stream';
import { progressReporter } from '../../src/operator/cli/cli-support.js';

/** A stream that records what is written, posing as a terminal or a pipe. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  Object.assign(stream, { isTTY, columns: 100 });
  return { stream, text: () => chunks.join('') };
}

describe('bulk progress', () => {
  test('on a terminal: a bar that fills up', async () => {
    const { stream, text } = fakeStream(true);
    const progress = progressReporter('replay', stream);
    progress.onProgress(0, 1200);
    progress.onProgress(500, 1200);
    progress.onProgress(1200, 1200);
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).toContain('replay [');
    expect(text()).toContain('1200/1200 (100%)');
  });

  test('in a pipe or CI log: one plain line per batch, no escape codes', async () => {
    const { stream, text } = fakeStream(false);
    const progress = progressReporter('purge', stream);
    progress.onProgress(0, 1200);
    progress.onProgress(500, 1200);
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).toBe('purge: 0/1200\npurge: 500/1200\n');
  });
});
