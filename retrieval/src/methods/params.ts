/**
 * Param schemas shared by the methods. Legacy clients send extra fields (torus.js 1.x adds `timestamp` to
 * CommitmentRequest), and the Go node ignored unknown fields, so objects are not strict; every field used is
 * bounded and typed.
 */
import { z } from 'zod';

export const VerifierName = z.string().max(128);
export const VerifierId = z.string().max(1024);
/** Lowercase or uppercase hex without 0x, 1 to 64 digits, as bijson writes big integers (unpadded). */
export const HexCoordinate = z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'expected 1 to 64 hex digits without 0x');

export const VerifierParams = z.object({ verifier: VerifierName, verifier_id: VerifierId });
