/**
 * registry.json: the one record of which model serves, which are waiting, and what happened to every version.
 * Read fresh by every reader (it is a few kilobytes), written only under the registry lock, atomically.
 */
import { TxrankError } from '../errors/codes.js';
import { isModelStatus, type ModelStatus } from './status.js';

export const REGISTRY_FORMAT = 'txrank.registry/1';
export const REGISTRY_FILE = 'registry.json';
export const LOCK_FILE = 'registry.lock';
/** What the model manager last announced (validated): the model inference workers load at start. */
export const ANNOUNCED_FILE = 'announced.json';

export interface StatusChange {
  at: string;
  from: ModelStatus | null;
  to: ModelStatus;
  reason: string;
  /** The registry generation after this change, when it changed the serving model. */
  generation?: number;
}

/** The example window a trained model saw (from the manifest's training.window; null for offline models). */
export interface TrainingWindow {
  firstSeq: number;
  lastSeq: number;
  /** ISO-8601 decision times of the first and last example. */
  firstAt: string;
  lastAt: string;
  examples: number;
}

export interface RegistryEntry {
  version: string;
  parent: string | null;
  status: ModelStatus;
  /** Why the latest status change happened (free text for operators). */
  reason: string;
  /** ISO-8601: when the registry first learned of this version, and when its status last changed. */
  addedAt: string;
  updatedAt: string;
  /** Generation at which this version last became the serving one; null if it never served. */
  servedGeneration: number | null;
  /** The manifest's metrics at publication (held-out or progressive, as the producer wrote them). */
  metrics: Record<string, number>;
  /** The validation report of the model manager, when it validated this version. */
  validation: Record<string, number> | null;
  window: TrainingWindow | null;
  /** The directory was deleted by retention; the entry stays as history. */
  pruned: boolean;
  /** Status changes, oldest first: the first one (how the registry learned of the version) and the most recent. */
  history: StatusChange[];
  /**
   * Status changes dropped from the middle of `history` to keep it bounded (ModelRegistry's
   * entryHistoryLimit); absent when none were. A version pinned back and forth would otherwise add two
   * records per swap, and registry.json is read and parsed several times per swap.
   */
  historyDropped?: number;
}

export interface RegistryState {
  format: typeof REGISTRY_FORMAT;
  /** The version every inference worker should serve. */
  serving: string;
  /** +1 on every change of the serving version; never goes back, so consumers can order announcements. */
  generation: number;
  /** Operator pin: while true, the manager promotes nothing. */
  pinned: boolean;
  updatedAt: string;
  /** Every known version, in the order the registry learned of them (oldest first). */
  entries: RegistryEntry[];
}

function bad(file: string, what: string): never {
  throw new TxrankError('internal', `model registry ${file}: ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numbers(file: string, v: unknown, where: string): Record<string, number> {
  if (!isRecord(v)) bad(file, `${where} must be an object of numbers`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'number') bad(file, `${where}.${k} must be a number`);
    out[k] = x;
  }
  return out;
}

/** Checks a parsed registry.json; throws TxrankError('internal') naming the bad field. */
export function validateRegistryState(v: unknown, file = REGISTRY_FILE): RegistryState {
  if (!isRecord(v)) bad(file, 'not a JSON object');
  if (v.format !== REGISTRY_FORMAT) bad(file, `format is ${JSON.stringify(v.format)}, expected ${REGISTRY_FORMAT}`);
  if (typeof v.serving !== 'string' || v.serving === '') bad(file, 'serving must be a version string');
  if (!Number.isSafeInteger(v.generation) || (v.generation as number) < 1) bad(file, 'generation must be a positive integer');
  if (typeof v.pinned !== 'boolean') bad(file, 'pinned must be a boolean');
  if (typeof v.updatedAt !== 'string') bad(file, 'updatedAt must be a string');
  if (!Array.isArray(v.entries)) bad(file, 'entries must be an array');
  const seen = new Set<string>();
  const entries = v.entries.map((e, i): RegistryEntry => {
    const at = `entries[${i}]`;
    if (!isRecord(e)) bad(file, `${at} must be an object`);
    if (typeof e.version !== 'string' || e.version === '') bad(file, `${at}.version must be a string`);
    if (seen.has(e.version)) bad(file, `${at}: version ${e.version} appears twice`);
    seen.add(e.version);
    if (e.parent !== null && typeof e.parent !== 'string') bad(file, `${at}.parent must be a string or null`);
    if (!isModelStatus(e.status)) bad(file, `${at}.status ${JSON.stringify(e.status)} is not a model status`);
    if (e.servedGeneration !== null && !Number.isSafeInteger(e.servedGeneration)) bad(file, `${at}.servedGeneration must be an integer or null`);
    if (!Array.isArray(e.history)) bad(file, `${at}.history must be an array`);
    if (e.historyDropped !== undefined && !(Number.isSafeInteger(e.historyDropped) && (e.historyDropped as number) > 0)) {
      bad(file, `${at}.historyDropped must be a positive integer when present`);
    }
    return {
      version: e.version,
      parent: e.parent,
      status: e.status,
      reason: String(e.reason ?? ''),
      addedAt: String(e.addedAt ?? ''),
      updatedAt: String(e.updatedAt ?? ''),
      servedGeneration: e.servedGeneration as number | null,
      metrics: numbers(file, e.metrics ?? {}, `${at}.metrics`),
      validation: e.validation === null || e.validation === undefined ? null : numbers(file, e.validation, `${at}.validation`),
      window: (e.window ?? null) as TrainingWindow | null,
      pruned: e.pruned === true,
      history: e.history as StatusChange[],
      ...(e.historyDropped === undefined ? {} : { historyDropped: e.historyDropped as number }),
    };
  });
  const serving = entries.find((e) => e.version === v.serving);
  if (!serving) bad(file, `serving version ${v.serving} has no entry`);
  if (serving.status !== 'serving') bad(file, `serving version ${v.serving} has status ${serving.status}`);
  const others = entries.filter((e) => e.status === 'serving' && e.version !== v.serving);
  if (others.length > 0) bad(file, `versions ${others.map((e) => e.version).join(', ')} claim to serve but ${v.serving} is serving`);
  return { format: REGISTRY_FORMAT, serving: v.serving, generation: v.generation as number, pinned: v.pinned, updatedAt: v.updatedAt, entries };
}
