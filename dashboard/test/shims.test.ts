/**
 * The browser substitutes (dashboard/shims/) against what they stand in for, run in Node: node-crypto.ts
 * against node:crypto with fixed and random vectors (every length around the AES block and hash block sizes,
 * several updates, long HMAC keys, bad padding), secp256k1.ts against the secp256k1 package, and the
 * module-level stand-ins that must fail loudly rather than half-work.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import secp256k1 from 'secp256k1';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import * as shim from '../shims/node-crypto.js';
import browserSecp256k1 from '../shims/secp256k1.js';
import { createRequire } from '../shims/node-module.js';
import { readFileSync } from '../shims/node-fs.js';
import { nodeHttpTransport } from '../shims/rpc-node-http.js';
import { NodeCallError } from '../../client/src/transport.js';
import { maskVerifierId } from '../src/mask.js';

const hex = (bytes: Uint8Array): string => bytesToHex(bytes);
const random = (length: number): Uint8Array => new Uint8Array(nodeCrypto.randomBytes(length));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('node-crypto shim', () => {
  it('createHash sha256 and sha512 match node:crypto, also over several updates', () => {
    // FIPS 180-2 "abc".
    assert.equal(hex(shim.createHash('sha256').update(utf8('abc')).digest()), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(hex(shim.createHash('sha512').update(utf8('')).digest()).slice(0, 32), 'cf83e1357eefb8bdf1542850d66d8007');
    for (const algorithm of ['sha256', 'sha512'] as const) {
      for (const length of [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000]) {
        const data = random(length);
        const expected = nodeCrypto.createHash(algorithm).update(data).digest();
        assert.equal(hex(shim.createHash(algorithm).update(data).digest()), hex(expected), `${algorithm} of ${length} bytes`);
        const cut = Math.floor(length / 3);
        const pieces = shim.createHash(algorithm).update(data.subarray(0, cut)).update(data.subarray(cut)).digest();
        assert.equal(hex(pieces), hex(expected), `${algorithm} of ${length} bytes in two updates`);
      }
    }
  });

  it('createHmac sha256 matches node:crypto (RFC 4231 case 2, and keys shorter and longer than a block)', () => {
    assert.equal(
      hex(shim.createHmac('sha256', utf8('Jefe')).update(utf8('what do ya want ')).update(utf8('for nothing?')).digest()),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    for (const keyLength of [0, 16, 32, 64, 65, 200]) {
      const key = random(keyLength);
      const data = random(77);
      assert.equal(hex(shim.createHmac('sha256', key).update(data).digest()), hex(nodeCrypto.createHmac('sha256', key).update(data).digest()), `key of ${keyLength} bytes`);
    }
  });

  it('aes-256-cbc encrypts as node:crypto does (update ‖ final) and decrypts both ways', () => {
    for (let length = 0; length <= 50; length++) {
      const key = random(32);
      const iv = random(16);
      const plaintext = random(length);
      const nodeCipher = nodeCrypto.createCipheriv('aes-256-cbc', key, iv);
      const expected = Buffer.concat([nodeCipher.update(plaintext), nodeCipher.final()]);
      const cipher = shim.createCipheriv('aes-256-cbc', key, iv);
      const produced = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      assert.equal(hex(produced), hex(expected), `${length} bytes`);
      const decipher = shim.createDecipheriv('aes-256-cbc', key, iv);
      assert.equal(hex(Buffer.concat([decipher.update(expected), decipher.final()])), hex(plaintext));
    }
  });

  it('a wrong key or a partial block fails in final(), as in Node', () => {
    const key = random(32);
    const iv = random(16);
    const cipher = nodeCrypto.createCipheriv('aes-256-cbc', key, iv);
    const ciphertext = Buffer.concat([cipher.update(utf8('a share of a key')), cipher.final()]);
    // With another key the padding is garbage with probability ~255/256; try a few keys so the test is stable.
    let refused = 0;
    for (let i = 0; i < 8; i++) {
      const decipher = shim.createDecipheriv('aes-256-cbc', random(32), iv);
      decipher.update(ciphertext);
      try {
        decipher.final();
      } catch (err) {
        assert.match((err as Error).message, /bad decrypt/);
        refused++;
      }
    }
    assert.ok(refused >= 6, `only ${refused} of 8 wrong keys were refused`);
    const partial = shim.createDecipheriv('aes-256-cbc', key, iv);
    partial.update(ciphertext.subarray(0, 20));
    assert.throws(() => partial.final(), /wrong final block length/);
    assert.throws(() => shim.createCipheriv('aes-256-cbc', random(16), iv), /Invalid key length/);
    assert.throws(() => shim.createCipheriv('aes-256-cbc', key, random(12)), /Invalid initialization vector/);
  });

  it('timingSafeEqual agrees with node:crypto and refuses different lengths', () => {
    const a = random(32);
    const b = Uint8Array.from(a);
    assert.equal(shim.timingSafeEqual(a, b), true);
    b[31] = ((b[31] as number) ^ 1) & 0xff;
    assert.equal(shim.timingSafeEqual(a, b), nodeCrypto.timingSafeEqual(a, b));
    assert.equal(shim.timingSafeEqual(a, b), false);
    assert.throws(() => shim.timingSafeEqual(a, a.subarray(1)), RangeError);
    assert.throws(() => nodeCrypto.timingSafeEqual(a, a.subarray(1)), RangeError);
  });

  it('randomBytes gives the asked length, also past one getRandomValues call, and differs each time', () => {
    assert.equal(shim.randomBytes(0).length, 0);
    const big = shim.randomBytes(70_000);
    assert.equal(big.length, 70_000);
    assert.ok(big.subarray(65_536).some((byte) => byte !== 0), 'the part past the first 64 KiB is filled too');
    assert.notEqual(hex(shim.randomBytes(32)), hex(shim.randomBytes(32)));
    assert.throws(() => shim.randomBytes(-1), RangeError);
  });

  it('what it does not implement throws, naming it', () => {
    assert.throws(() => shim.createHash('md5'), /createHash\('md5'\) is not available in the browser build/);
    assert.throws(() => shim.createHmac('sha512', random(8)), /createHmac\('sha512'\)/);
    assert.throws(() => shim.createCipheriv('aes-128-gcm', random(16), random(12)), /createCipheriv\('aes-128-gcm'\)/);
    const hash = shim.createHash('sha256');
    hash.digest();
    assert.throws(() => hash.update(random(1)), /digest already called/);
  });
});

describe('the other browser substitutes', () => {
  it('secp256k1.publicKeyConvert matches the package both ways and refuses points off the curve', () => {
    for (let i = 0; i < 20; i++) {
      const uncompressed = publicKeyOf(randomSecretKey());
      const compressed = secp256k1.publicKeyConvert(uncompressed, true);
      assert.equal(hex(browserSecp256k1.publicKeyConvert(uncompressed, true)), hex(compressed));
      assert.equal(hex(browserSecp256k1.publicKeyConvert(compressed, false)), hex(uncompressed));
    }
    // x = 5 has no point on secp256k1.
    assert.throws(() => browserSecp256k1.publicKeyConvert(hexToBytes(`02${'00'.repeat(31)}05`), false));
  });

  it('node:module has no native modules, node:fs no files, and the node:http transport says what to use instead', async () => {
    const require = createRequire(import.meta.url);
    assert.throws(() => require('node-gyp-build'), /cannot load node-gyp-build in a browser/);
    assert.throws(() => readFileSync('client.json'), /node:fs is not available in a browser/);
    await assert.rejects(nodeHttpTransport.callNode('http://127.0.0.1:1/jrpc', 'KeyAssign', { verifier: 'v', verifier_id: 'a' }, { timeoutMs: 100 }), (err: unknown) => {
      assert.ok(err instanceof NodeCallError);
      assert.equal(err.kind, 'transport');
      assert.match(err.reason, /pass \{ transport: fetchTransport \}/);
      return true;
    });
  });
});

describe('maskVerifierId', () => {
  it('keeps the first character and the domain of an email, little of anything else', () => {
    assert.equal(maskVerifierId('alice@example.com'), 'a***@example.com');
    assert.equal(maskVerifierId('a@b.c'), 'a***@b.c');
    assert.equal(maskVerifierId('google-oauth2|1234567'), 'go***');
    assert.equal(maskVerifierId('bob'), '***');
    assert.equal(maskVerifierId('@example.com'), '@e***');
    assert.equal(maskVerifierId('😀user@example.com'), '😀***@example.com');
  });
});
