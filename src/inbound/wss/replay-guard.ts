import type { Pool } from '../../infra/database.js';
import { BrokerFault } from '../../infra/errors.js';
import type { Logger } from '../../infra/log.js';
import { REPLAY_WINDOW_MS } from '../../infra/xml/wss-timestamp.js';
import {
  forgetSignedRequest,
  pruneSignedRequests,
  recordSignedRequest,
  type SignedRequestKey,
} from '../../store/wss-replay.repo.js';

/** How often, at most, a request also prunes replay records no request can match any more. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Refuses a signed request seen before: same sender, wsa:MessageID and signature (a true replay). The
 * record lives in PostgreSQL, so every HTTP process and broker shares it.
 */
export class ReplayGuard {
  private lastPruned = 0;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Records the request, or throws Client.EK0031 naming MessageID when it was recorded already. */
  async admit(key: SignedRequestKey): Promise<void> {
    this.pruneNowAndThen();
    if (!(await recordSignedRequest(this.pool, key))) {
      throw new BrokerFault(
        'EK0031',
        `replay: this signed request (wsa:MessageID ${key.messageId}, same signature) was received before; sign a resend anew, with a new wsu:Timestamp`,
        'MessageID',
      );
    }
  }

  /** Forgets an admitted request whose message is known not to be stored, so that its identical resend is accepted. */
  async forget(key: SignedRequestKey): Promise<void> {
    await forgetSignedRequest(this.pool, key).catch((error: Error) =>
      this.log.warn('could not forget a replay record', { error: error.message }),
    );
  }

  private pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPruned < PRUNE_EVERY_MS) return;
    this.lastPruned = now;
    pruneSignedRequests(this.pool, REPLAY_WINDOW_MS).catch((error: Error) =>
      this.log.warn('pruning replay records failed; will try again', { error: error.message }),
    );
  }
}
