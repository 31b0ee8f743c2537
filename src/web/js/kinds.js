// @ts-check
// The names the JS modules and Rust share for what crosses between them:
// these mirror the `#[wasm_bindgen]` enums of src/web/kinds.rs, which the
// glue exports under the same names. The build (scripts/minify-glue.mjs)
// fails unless the two agree, and bundles the glue's own objects in place of
// these.

/** What peer.js reports to its peer. @enum {number} */
export const Report = Object.freeze({
  LocalCandidate: 0,
  IceState: 1,
  RemoteStream: 2,
  NegotiationNeeded: 3,
  CandidateError: 4,
  OpSettled: 5,
  OpFailed: 6,
  OrphanFailed: 7,
  Timer: 8,
  Sample: 9,
  AppStats: 10,
});

/** An operation of the peer's chain. @enum {number} */
export const Operation = Object.freeze({
  SetLocal: 0,
  SetRemote: 1,
  AddCandidate: 2,
});

/** How one attempt of fetch.js ended. @enum {number} */
export const FetchOutcome = Object.freeze({
  Json: 0,
  HttpStatus: 1,
  NetworkError: 2,
  Timeout: 3,
  NotJson: 4,
  NoToken: 5,
});

/** What reaches the manager from manager.js and fetch.js. @enum {number} */
export const ManagerEvent = Object.freeze({
  NetworkChanged: 0,
  TokenArrived: 1,
  WaitOver: 2,
});
