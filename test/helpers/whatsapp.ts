// Meta's side of the webhook for tests: the builders and the signer live in
// src/whatsapp/meta-payloads.ts, shared with the local simulator.
export * from '../../src/whatsapp/meta-payloads.js';
