/**
 * @module
 * T.38 fax over IP: IFP packets, UDPTL packets and endpoint, and the T.38 terminal that implements T30Port.
 */

export * from './ifp.ts';
export * from './t38-transport.ts';
export * from './udptl.ts';
export * from './udptl-endpoint.ts';
export {
  UdptlReceiver,
  type UdptlReceiverOptions,
  type UdptlReceiverSink,
  type UdptlReceiverStats,
} from './udptl-receiver.ts';
export { UdptlSender } from './udptl-sender.ts';
export { WakeTimer } from './wake-timer.ts';
