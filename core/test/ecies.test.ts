import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createECDH, createHash, createHmac } from 'node:crypto';
import { bytesToHex, concatBytes, hexToBytes } from '../encoding/bytes.js';
import { compressPublicKey, publicKeyOf, randomSecretKey } from '../crypto/keys.js';
import { __TEST, decrypt, encrypt, EciesError, type EciesPayload } from '../crypto/ecies.js';

// Vectors computed with node:crypto only (OpenSSL ECDH `computeSecret`, SHA-512, AES-256-CBC, HMAC-SHA256),
// i.e. independently of the noble ECDH used by the module.
const RECIPIENT_SK = hexToBytes('6b1c7f1d5a9e3f0c2b4d8e7a9c1f3e5d7b9a2c4e6f8091a3b5c7d9e1f2a4b6c8');
const RECIPIENT_PK =
  '0492717135b8e1e4ac877d5d2bdc409f8b39995e031d07535f9baba6fa6b8defe7a466df1c379bc324f6bd47f5e7f45ab588e38c309cc303d235f60ace5786f761';
const IV = hexToBytes('000102030405060708090a0b0c0d0e0f');
const VECTOR = {
  ephemSk: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988',
  plaintext: 'dd80d3840a3fd4d8e0b8e3b8a6a4f27e5c9c4a35d2b4a1e0f3c2b1a09f8e8976',
  ephemPublicKey:
    '04085fe2ca7a5758957ea811bd8e743d9cee6bc20072f1470a888c43a1091a8e8b6c24b94641fa44c371b757127afcba3652e884413ada780be21d0585190deeac',
  ciphertext: '2ec43917b48faccd943ff5440e44bc5bcd625d07351d8ecc7a2014e48267fb3c6c457d8f20b3a05a47921be71d689d93',
  mac: '0e66bddd280f23ecd076c62acd399b505c6ec7590d3c56aadab4ded7cf938636',
};
// An ephemeral key whose shared x-coordinate starts with a zero byte (007d73bd…): Px must be padded to 32 bytes.
const LEADING_ZERO_VECTOR = {
  ephemSk: '22f04b35457c1cfa08d023213546c6cb8b4fca004e38b8c851afe1e3fd380551',
  plaintext: Buffer.from('share').toString('hex'),
  ephemPublicKey:
    '044c56fdd220cc4203ddbfc9dd88bf46a4ba959726ab36af14cd52706e810151a1fdb5508ee53133edcb7bd056313857dd9d13402f75a105ff7e8acc9fe4d98713',
  ciphertext: 'e195678bfb99152178c77710b1735846',
  mac: 'baf574bc9dea84be7d2ccb14fada397b6fbfde92a651918e7bb028850c2168df',
};

/** eccrypto-style decryption written against OpenSSL only, to cross-check the module's output. */
function referenceDecrypt(secretKey: Uint8Array, p: EciesPayload): Uint8Array {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(secretKey);
  const px = ecdh.computeSecret(p.ephemPublicKey);
  const h = createHash('sha512').update(px).digest();
  const mac = createHmac('sha256', h.subarray(32)).update(concatBytes(p.iv, p.ephemPublicKey, p.ciphertext)).digest();
  assert.equal(bytesToHex(mac), bytesToHex(p.mac), 'reference MAC');
  const d = createDecipheriv('aes-256-cbc', h.subarray(0, 32), p.iv);
  return new Uint8Array(Buffer.concat([d.update(p.ciphertext), d.final()]));
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

describe('ECIES (eccrypto-compatible)', () => {
  it('the recipient key of the vectors is what the test claims', () => {
    assert.equal(bytesToHex(publicKeyOf(RECIPIENT_SK)), RECIPIENT_PK);
  });

  for (const [name, v] of [
    ['fixed vector', VECTOR],
    ['fixed vector with a leading-zero shared x', LEADING_ZERO_VECTOR],
  ] as const) {
    it(`${name}: exact ciphertext and mac`, () => {
      const payload = __TEST.encryptWith(RECIPIENT_PK, hexToBytes(v.plaintext), hexToBytes(v.ephemSk), IV);
      assert.equal(bytesToHex(payload.iv), bytesToHex(IV));
      assert.equal(bytesToHex(payload.ephemPublicKey), v.ephemPublicKey);
      assert.equal(bytesToHex(payload.ciphertext), v.ciphertext);
      assert.equal(bytesToHex(payload.mac), v.mac);
      const fromWire: EciesPayload = {
        iv: IV,
        ephemPublicKey: hexToBytes(v.ephemPublicKey),
        ciphertext: hexToBytes(v.ciphertext),
        mac: hexToBytes(v.mac),
      };
      assert.equal(bytesToHex(decrypt(RECIPIENT_SK, fromWire)), v.plaintext);
    });
  }

  it('the leading-zero vector really has a leading zero byte in Px', () => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(RECIPIENT_SK);
    const px = ecdh.computeSecret(hexToBytes(LEADING_ZERO_VECTOR.ephemPublicKey));
    assert.equal(px.length, 32);
    assert.equal(px[0], 0);
  });

  it('round-trips and matches an independent OpenSSL decryption', () => {
    const sk = randomSecretKey();
    const pkUncompressed = publicKeyOf(sk);
    for (const length of [0, 1, 15, 16, 17, 32, 100]) {
      const plaintext = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff);
      const recipient = length % 2 === 0 ? pkUncompressed : compressPublicKey(pkUncompressed);
      const payload = encrypt(recipient, plaintext);
      assert.equal(payload.iv.length, 16);
      assert.equal(payload.ephemPublicKey.length, 65);
      assert.equal(payload.ephemPublicKey[0], 0x04);
      assert.equal(payload.mac.length, 32);
      assert.equal(payload.ciphertext.length, (Math.floor(length / 16) + 1) * 16);
      assert.deepEqual(decrypt(sk, payload), plaintext);
      assert.deepEqual(referenceDecrypt(sk, payload), plaintext);
    }
    assert.deepEqual(decrypt(sk, encrypt(bytesToHex(pkUncompressed), Uint8Array.of(9))), Uint8Array.of(9));
  });

  it('uses a fresh ephemeral key and IV each time', () => {
    const pk = publicKeyOf(RECIPIENT_SK);
    const a = encrypt(pk, Uint8Array.of(1, 2, 3));
    const b = encrypt(pk, Uint8Array.of(1, 2, 3));
    assert.notEqual(bytesToHex(a.iv), bytesToHex(b.iv));
    assert.notEqual(bytesToHex(a.ephemPublicKey), bytesToHex(b.ephemPublicKey));
    assert.notEqual(bytesToHex(a.ciphertext), bytesToHex(b.ciphertext));
  });

  it('rejects any tampering with a MAC error', () => {
    const sk = randomSecretKey();
    const payload = encrypt(publicKeyOf(sk), new Uint8Array(40).fill(7));
    const otherEphemeral = publicKeyOf(randomSecretKey());
    const tampered: Array<[string, EciesPayload]> = [
      ['ciphertext first block', { ...payload, ciphertext: flip(payload.ciphertext, 0) }],
      ['ciphertext last byte', { ...payload, ciphertext: flip(payload.ciphertext, payload.ciphertext.length - 1) }],
      ['ciphertext truncated by a block', { ...payload, ciphertext: payload.ciphertext.subarray(0, 32) }],
      ['iv', { ...payload, iv: flip(payload.iv, 15) }],
      ['mac', { ...payload, mac: flip(payload.mac, 31) }],
      ['ephemeral key', { ...payload, ephemPublicKey: otherEphemeral }],
    ];
    for (const [name, bad] of tampered) assert.throws(() => decrypt(sk, bad), (err: unknown) => err instanceof EciesError && /MAC/.test(err.message), name);
    assert.throws(() => decrypt(randomSecretKey(), payload), /MAC mismatch/);
  });

  it('rejects malformed fields with clear errors', () => {
    const sk = randomSecretKey();
    const payload = encrypt(publicKeyOf(sk), Uint8Array.of(1));
    const compressedEphemeral = compressPublicKey(payload.ephemPublicKey);
    const offCurve = flip(payload.ephemPublicKey, 64);
    const cases: Array<[string, EciesPayload, RegExp]> = [
      ['short iv', { ...payload, iv: payload.iv.subarray(0, 15) }, /iv/],
      ['short mac', { ...payload, mac: payload.mac.subarray(0, 31) }, /mac/],
      ['empty ciphertext', { ...payload, ciphertext: new Uint8Array(0) }, /ciphertext/],
      ['ragged ciphertext', { ...payload, ciphertext: payload.ciphertext.subarray(0, 15) }, /ciphertext/],
      ['compressed ephemeral key', { ...payload, ephemPublicKey: compressedEphemeral }, /65 bytes/],
      ['off-curve ephemeral key', { ...payload, ephemPublicKey: offCurve }, /not a point/],
    ];
    for (const [name, bad, message] of cases) {
      assert.throws(() => decrypt(sk, bad), (err: unknown) => err instanceof EciesError && message.test(err.message), name);
    }
    assert.throws(() => decrypt(new Uint8Array(32), payload), EciesError);
    assert.throws(() => encrypt(new Uint8Array(65), Uint8Array.of(1)), EciesError);
    assert.throws(() => encrypt('04' + '00'.repeat(64), Uint8Array.of(1)), EciesError);
    assert.throws(() => __TEST.encryptWith(RECIPIENT_PK, Uint8Array.of(1), hexToBytes(VECTOR.ephemSk), IV.subarray(0, 8)), EciesError);
  });

  it('reports bad padding behind a valid MAC', () => {
    // Build a payload whose MAC is right but whose last block does not unpad, using OpenSSL directly.
    const ephemSk = hexToBytes(VECTOR.ephemSk);
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(ephemSk);
    const px = ecdh.computeSecret(hexToBytes(RECIPIENT_PK));
    const h = createHash('sha512').update(px).digest();
    const cipher = createCipheriv('aes-256-cbc', h.subarray(0, 32), IV).setAutoPadding(false);
    const ciphertext = new Uint8Array(Buffer.concat([cipher.update(new Uint8Array(16)), cipher.final()])); // pad byte 0
    const ephemPublicKey = hexToBytes(VECTOR.ephemPublicKey);
    const mac = new Uint8Array(createHmac('sha256', h.subarray(32)).update(concatBytes(IV, ephemPublicKey, ciphertext)).digest());
    assert.throws(() => decrypt(RECIPIENT_SK, { iv: IV, ephemPublicKey, ciphertext, mac }), /padding/);
  });
});
