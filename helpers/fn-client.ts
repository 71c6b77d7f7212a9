// The Fn v1 API client lives in src/common so the harness CLI can ship it; tests keep importing it here.
export * from '../src/common/fn-client.js';
