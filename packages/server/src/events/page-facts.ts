/**
 * @module events/page-facts
 * A stored page's row → the facts page events and the page list report (never the page itself).
 */
import './event-tables.ts';
import type { FaxPagesTable } from '../store/schema.ts';
import { type PageFacts, pageUrl } from './fax-event.ts';

export function pageFactsOf(row: FaxPagesTable): PageFacts {
  return {
    page: row.n,
    width: row.width,
    rows: row.rows,
    resolution: row.resolution,
    badRows: row.bad_rows,
    size: row.byte_size,
    pageUrl: pageUrl(row.fax_id, row.n),
  };
}
