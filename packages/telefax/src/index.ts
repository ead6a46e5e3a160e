/**
 * @module
 * telefax: a fax stack in TypeScript. Each layer is a namespace here and a subpath export of its own
 * (`telefax/codec/index`, `telefax/t30/index`, …):
 * - `codec`: T.4 MH/MR and T.6 MMR encoders and decoders, one-shot and streaming;
 * - `image`: the bilevel page, TIFF Class F and PBM;
 * - `t30`: the T.30 session over a line port (all four roles, ECM), DIS/DCS, the failure taxonomy;
 * - `t38`: IFP, UDPTL with redundancy and FEC, and the T.38 transport that implements the line port;
 * - `rtp`: RTP with G.711 for the audio phase of fax calls: the fax tones CNG and CED, tone detection;
 * - `sip`: a SIP user agent with T.38 fax calls.
 */
export * as codec from './codec/index.ts';
export * as bilevelPage from './image/bilevel-page.ts';
export * as pbm from './image/pbm.ts';
export * as tiffReader from './image/tiff-reader.ts';
export * as tiffWriter from './image/tiff-writer.ts';
export * as rtp from './rtp/index.ts';
export * as sip from './sip/index.ts';
export * as t30 from './t30/index.ts';
export * as t38 from './t38/index.ts';
