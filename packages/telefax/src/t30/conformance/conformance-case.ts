/**
 * @module
 * A conformance case: the engine in one role on one side of a memory line, a script playing the far end on the
 * other, and the outcome the engine must reach.
 */

import type { BilevelPage } from '../../image/bilevel-page.ts';
import type { FaxFailureReason } from '../fax-outcome.ts';
import type { T30SessionOptions } from '../t30-session.ts';
import type { T30Timers } from '../timers.ts';
import type { ScriptKit } from './script-kit.ts';
import type { ScriptedPeer } from './scripted-peer.ts';

export interface ConformanceCase {
  readonly name: string;
  readonly description: string;
  /** How the engine runs (direction, calling, ECM...); port, pages and timers are filled in by the runner. */
  readonly engine: Omit<Partial<T30SessionOptions>, 'port'> &
    Pick<T30SessionOptions, 'direction' | 'calling'>;
  /** Pages the engine sends (default 2 when sending). */
  readonly pages?: readonly BilevelPage[];
  /** The far end. Throws ConformanceError when the engine does not do what it should. */
  readonly script: (peer: ScriptedPeer, kit: ScriptKit) => Promise<void>;
  readonly expect: {
    /** Undefined: only the script's expectations count (the procedure names no final status). */
    readonly ok?: boolean;
    readonly reason?: FaxFailureReason;
    /** Pages the engine confirmed (sent and acknowledged, or received and stored). */
    readonly pages?: number;
  };
  /** Why the case cannot run here; skipped cases are reported with it. */
  readonly skip?: string;
  /** Timers for this case (default: the runner's shortened ones). */
  readonly timers?: Partial<T30Timers>;
}
