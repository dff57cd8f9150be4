/**
 * The node JSON-RPC methods the client uses, with their parameters and a zod schema for each result. These are
 * the legacy Torus shapes (torus-client.md §4) plus our two ShareRequest extensions, `NodeIndex` and
 * `ShareCommitments`. Nodes are untrusted: every answer passes one of these schemas before any field is read.
 * Schemas check only what the client uses (unknown fields are dropped), except the CommitmentRequest result,
 * which the client forwards to the nodes untouched and therefore keeps whole.
 */
import { z } from 'zod';

/** A big integer as the Go node writes it: lowercase, unpadded hex without 0x. Case is not enforced on input. */
const HexInteger = z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'must be a hex integer of at most 64 digits');
const Hex = (bytes: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `must be ${bytes} bytes of hex`);

export const LookupKeySchema = z.object({
  key_index: HexInteger,
  pub_key_X: HexInteger,
  pub_key_Y: HexInteger,
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address'),
});

/** VerifierLookupRequest and KeyAssign results. */
export const LookupResultSchema = z.object({ keys: z.array(LookupKeySchema).min(1).max(1000) });

/** Opaque to the client (the nodes check each other's signatures); forwarded as received, extra fields included. */
export const CommitmentResultSchema = z.looseObject({
  signature: z.string().min(1).max(1024),
  data: z.string().min(1).max(8192),
  nodepubx: z.string().min(1).max(128),
  nodepuby: z.string().min(1).max(128),
});

export const ShareKeySchema = z.object({
  /** The key index (not the node index). */
  Index: HexInteger,
  PublicKey: z.object({ X: HexInteger, Y: HexInteger }),
  /** base64 of the ASCII hex of the AES-256-CBC ciphertext (the Go node's []byte(hexString)). */
  Share: z.string().min(1).max(4096).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  Metadata: z.object({
    iv: Hex(16),
    ephemPublicKey: z.string().regex(/^04[0-9a-fA-F]{128}$/, 'must be an uncompressed point (04 + 128 hex)'),
    mac: Hex(32),
  }),
  /** Extension: the answering node's index in the epoch. */
  NodeIndex: z.number().int().positive(),
  /** Extension: g^{s_i} (33-byte compressed, hex) for every member index i, from the consensus state. */
  ShareCommitments: z
    .record(z.string().regex(/^[1-9][0-9]{0,6}$/, 'keys must be node indexes'), z.string().regex(/^0[23][0-9a-fA-F]{64}$/, 'must be a compressed point (66 hex)'))
    .refine((map) => Object.keys(map).length > 0 && Object.keys(map).length <= 1000, 'must have between 1 and 1000 entries'),
});

export const ShareResultSchema = z.object({ keys: z.array(ShareKeySchema).min(1).max(1000) });

export type LookupResult = z.infer<typeof LookupResultSchema>;
export type LookupKey = z.infer<typeof LookupKeySchema>;
export type CommitmentResult = z.infer<typeof CommitmentResultSchema>;
export type ShareResult = z.infer<typeof ShareResultSchema>;
export type ShareKey = z.infer<typeof ShareKeySchema>;

export interface LookupParams {
  readonly verifier: string;
  readonly verifier_id: string;
}

export interface CommitmentParams {
  readonly messageprefix: 'mug00';
  /** keccak256(utf8(idToken)), hex without 0x. */
  readonly tokencommitment: string;
  /** The temporary public key's coordinates, 64 hex each. */
  readonly temppubx: string;
  readonly temppuby: string;
  readonly verifieridentifier: string;
}

export interface ShareRequestItem {
  readonly verifier_id: string;
  readonly idtoken: string;
  readonly nodesignatures: readonly CommitmentResult[];
  readonly verifieridentifier: string;
}

export interface ShareRequestParams {
  readonly encrypted: 'yes';
  readonly item: readonly ShareRequestItem[];
}

export interface MethodParams {
  VerifierLookupRequest: LookupParams;
  KeyAssign: LookupParams;
  CommitmentRequest: CommitmentParams;
  ShareRequest: ShareRequestParams;
}

export interface MethodResults {
  VerifierLookupRequest: LookupResult;
  KeyAssign: LookupResult;
  CommitmentRequest: CommitmentResult;
  ShareRequest: ShareResult;
}

export type NodeMethod = keyof MethodResults;
export type MethodResult<M extends NodeMethod> = MethodResults[M];

/** Result schema of each method; `callNode` picks the schema from the method name. */
export const RESULT_SCHEMAS: { readonly [M in NodeMethod]: z.ZodType<MethodResults[M]> } = {
  VerifierLookupRequest: LookupResultSchema,
  KeyAssign: LookupResultSchema,
  CommitmentRequest: CommitmentResultSchema,
  ShareRequest: ShareResultSchema,
};

/** Substrings of the `data` of the two JSON-RPC errors the client interprets (torus-node.md §2.3). */
export const NOT_ASSIGNED_MARKER = 'Verifier + VerifierID has not yet been assigned';
export const VERIFIER_NOT_SUPPORTED_MARKER = 'Verifier not supported';
/** JSON-RPC "internal error": the node failed, not the request; KeyAssign moves on to another node. */
export const RPC_INTERNAL_ERROR = -32603;
