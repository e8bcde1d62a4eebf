/**
 * Reading a model directory: the one place a model from disk is checked. Everything behind readModelDir gets
 * a LoadedModel whose manifest is well-formed, whose feature spec matches this engine's, and whose ONNX bytes
 * are exactly the ones the manifest names (sha256), so a half-copied or edited model is refused at load and
 * never served.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TxrankError } from '../errors/codes.js';
import { FEATURE_SPEC_VERSION, OFFER_DIM, TXN_DIM } from '../features/spec.js';
import { MODEL_FORMAT, type ModelManifest } from './manifest.js';
import { MANIFEST_FILE, sha256Hex } from './onnx-export.js';

export interface LoadedModel {
  /** Absolute path of the directory it was read from. */
  dir: string;
  manifest: ModelManifest;
  /** Bytes of txn_tower.onnx (owned by the model; treat as read-only). */
  txnTower: Uint8Array;
  /** Bytes of offer_tower.onnx (owned by the model; treat as read-only). */
  offerTower: Uint8Array;
}

function fail(dir: string, message: string): never {
  throw new TxrankError('internal', `model ${dir}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(dir: string, o: Record<string, unknown>, key: string, where = ''): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(dir, `manifest ${where}${key} must be a non-empty string`);
  return v;
}

function int(dir: string, o: Record<string, unknown>, key: string, where = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(dir, `manifest ${where}${key} must be a non-negative integer`);
  return v;
}

function obj(dir: string, o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  if (!isRecord(v)) fail(dir, `manifest ${key} must be an object`);
  return v;
}

/** A file name inside the model directory: no path separators, so a manifest cannot point outside it. */
function fileName(dir: string, o: Record<string, unknown>, key: string): string {
  const v = str(dir, o, key, 'files.');
  if (v !== path.basename(v) || v === '.' || v === '..') fail(dir, `manifest files.${key} must be a plain file name, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validates a parsed manifest.json. Throws TxrankError('internal') naming the bad field; in particular a
 * featureSpecVersion other than this engine's FEATURE_SPEC_VERSION is refused, because the model would read
 * the feature slots with another meaning and score garbage without any error.
 */
export function validateManifest(value: unknown, dir = '<memory>'): ModelManifest {
  if (!isRecord(value)) fail(dir, 'manifest.json is not a JSON object');
  if (value.format !== MODEL_FORMAT) {
    fail(dir, `manifest format is ${JSON.stringify(value.format)}, this engine reads ${JSON.stringify(MODEL_FORMAT)}`);
  }
  const version = str(dir, value, 'version');
  const parent = value.parent;
  if (parent !== null && (typeof parent !== 'string' || parent.length === 0)) fail(dir, 'manifest parent must be a string or null');
  const featureSpecVersion = value.featureSpecVersion;
  if (featureSpecVersion !== FEATURE_SPEC_VERSION) {
    fail(
      dir,
      `model ${version} was trained on feature spec version ${JSON.stringify(featureSpecVersion)} but this engine ` +
        `builds feature spec version ${FEATURE_SPEC_VERSION}; refusing to serve it (retrain it with this engine's features)`,
    );
  }
  const dimsRaw = obj(dir, value, 'dims');
  const dims = { txn: int(dir, dimsRaw, 'txn', 'dims.'), offer: int(dir, dimsRaw, 'offer', 'dims.'), embed: int(dir, dimsRaw, 'embed', 'dims.') };
  if (dims.txn !== TXN_DIM) fail(dir, `manifest dims.txn is ${dims.txn}, feature spec has TXN_DIM = ${TXN_DIM}`);
  if (dims.offer !== OFFER_DIM) fail(dir, `manifest dims.offer is ${dims.offer}, feature spec has OFFER_DIM = ${OFFER_DIM}`);
  if (dims.embed < 1) fail(dir, 'manifest dims.embed must be at least 1');
  const filesRaw = obj(dir, value, 'files');
  const files = { txnTower: fileName(dir, filesRaw, 'txnTower'), offerTower: fileName(dir, filesRaw, 'offerTower') };
  const createdAt = str(dir, value, 'createdAt');
  if (Number.isNaN(Date.parse(createdAt))) fail(dir, `manifest createdAt ${JSON.stringify(createdAt)} is not an ISO-8601 date`);
  const training = obj(dir, value, 'training');
  const metricsRaw = obj(dir, value, 'metrics');
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(metricsRaw)) {
    if (typeof v !== 'number') fail(dir, `manifest metrics.${k} must be a number`);
    metrics[k] = v;
  }
  const shaRaw = obj(dir, value, 'sha256');
  const sha256 = { txnTower: str(dir, shaRaw, 'txnTower', 'sha256.'), offerTower: str(dir, shaRaw, 'offerTower', 'sha256.') };
  for (const [k, v] of Object.entries(sha256)) {
    if (!/^[0-9a-f]{64}$/.test(v)) fail(dir, `manifest sha256.${k} is not a lowercase hex sha256`);
  }
  return { format: MODEL_FORMAT, version, parent, featureSpecVersion, dims, files, createdAt, training, metrics, sha256 };
}

async function readChecked(dir: string, name: string, expectedSha: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, name));
  } catch (err) {
    fail(dir, `cannot read ${name}: ${(err as Error).message}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha) fail(dir, `${name} has sha256 ${actual}, the manifest says ${expectedSha} (corrupt or edited file)`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads and checks a model directory. Rejects with TxrankError('internal') on any problem. */
export async function readModelDir(dir: string): Promise<LoadedModel> {
  const abs = path.resolve(dir);
  let text: string;
  try {
    text = await readFile(path.join(abs, MANIFEST_FILE), 'utf8');
  } catch (err) {
    fail(abs, `cannot read ${MANIFEST_FILE}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(abs, `${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  const manifest = validateManifest(parsed, abs);
  const [txnTower, offerTower] = await Promise.all([
    readChecked(abs, manifest.files.txnTower, manifest.sha256.txnTower),
    readChecked(abs, manifest.files.offerTower, manifest.sha256.offerTower),
  ]);
  return { dir: abs, manifest, txnTower, offerTower };
}
