/**
 * The `secp256k1` package: libsecp256k1 through a prebuilt N-API binding, or, where no binary exists for the
 * platform, the package's pure-JS fallback (elliptic), which is correct but ~20x slower and not constant-time.
 * Code that multiplies secrets uses `libsecp256k1` only when it is the native library.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import secp256k1 from 'secp256k1';

/** Which implementation the `secp256k1` package loaded. */
export function signatureBackend(): 'libsecp256k1' | 'javascript' {
  const require = createRequire(import.meta.url);
  try {
    const loadBinding = require('node-gyp-build') as (dir: string) => unknown;
    loadBinding(path.dirname(require.resolve('secp256k1/package.json')));
    return 'libsecp256k1';
  } catch {
    return 'javascript';
  }
}

/** The native library, or undefined when only the JavaScript fallback loaded. */
export const libsecp256k1: typeof secp256k1 | undefined = signatureBackend() === 'libsecp256k1' ? secp256k1 : undefined;
