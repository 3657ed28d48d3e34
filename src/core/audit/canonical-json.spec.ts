import { describe, expect, it } from 'vitest';

import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, sessionEventHash, sessionEventHashInput, sha256Hex } from './chain-hash.js';

describe('canonicalJson', () => {
  it('sorts members by name at every depth, integer-like names included, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 0, y: 1 }], c: null }, 10: 'x', 2: 'y' })).toBe(
      '{"10":"x","2":"y","a":{"c":null,"d":[3,{"y":1,"z":0}]},"b":1}',
    );
  });

  it('writes strings and numbers as JSON.stringify does, and drops what it drops', () => {
    const value = { s: 'é "q" \n \u0001 ☃', n: [1e21, 0.1, -0, 5e-7], u: undefined, f: () => 1 };
    expect(canonicalJson(value)).toBe(`{"n":[1e+21,0.1,0,5e-7],"s":${JSON.stringify(value.s)}}`);
    expect(canonicalJson([undefined, () => 1])).toBe('[null,null]');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('gives what JSON.parse read back the same text', () => {
    const value = { z: [{ b: 2, a: 1 }], a: 'x' };
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });
});

describe('session event hashes', () => {
  it('hash the canonical JSON of {at, data, prev, seq, sessionKey, type}', () => {
    const event = {
      sessionKey: 'ses_1',
      seq: 1,
      type: 'session.created',
      at: '2026-01-01T00:00:00.000Z',
    };
    const data = { metadata: {}, agentId: 'echo' };
    const input = sessionEventHashInput(GENESIS_HASH, { ...event, dataJson: canonicalJson(data) });
    expect(input).toBe(canonicalJson({ ...event, data, prev: GENESIS_HASH }));
    expect(sessionEventHash(GENESIS_HASH, { ...event, dataJson: canonicalJson(data) })).toBe(
      sha256Hex(input),
    );
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
