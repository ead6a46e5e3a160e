/**
 * @module
 * The resolution a page goes out at: its own when the far end accepts it, else the next lower one the far end
 * has (superfine → fine → standard), as fax machines do (T.4 §2.2; every station accepts standard).
 */

import { type BilevelPage, type FaxResolution, resolutionOf } from '../image/bilevel-page.ts';
import { convertResolution } from '../image/convert-resolution.ts';
import type { FaxCapabilities } from './dis-dcs.ts';

const DOWNWARD: Readonly<Record<FaxResolution, readonly FaxResolution[]>> = {
  superfine: ['superfine', 'fine', 'standard'],
  fine: ['fine', 'standard'],
  standard: ['standard'],
};

export function sendResolution(page: Pick<BilevelPage, 'yDpi'>, remote: FaxCapabilities): FaxResolution {
  return DOWNWARD[resolutionOf(page)].find((r) => remote.resolutions.includes(r)) ?? 'standard';
}

/** The page as it is sent under a DCS of this resolution (rows dropped when the resolution is lower). */
export function pageForResolution(page: BilevelPage, resolution: FaxResolution): BilevelPage {
  return resolutionOf(page) === resolution ? page : convertResolution(page, resolution);
}
