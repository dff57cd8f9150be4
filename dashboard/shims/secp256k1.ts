/**
 * The `secp256k1` package for the browser bundle. Its own browser build is elliptic, which this project does not
 * want to ship; core uses the package in two ways: as libsecp256k1 through native.ts, which is never loaded in a
 * browser (see node-module.ts), and for point decompression in core/crypto/point.ts (`publicKeyConvert`), done
 * here with @noble/curves. It throws on an invalid point, as the package does.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';

function publicKeyConvert(publicKey: Uint8Array, compressed = true): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(compressed);
}

export default { publicKeyConvert };
