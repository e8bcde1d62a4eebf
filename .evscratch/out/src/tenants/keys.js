/**
 * API keys. A key is shown in plaintext exactly once, when minted; LMDB holds only its sha256, so a copied
 * data directory or backup cannot be replayed against the server. Verification is one hash and one LMDB get,
 * synchronous, cheap enough for every WebSocket upgrade.
 *
 * The store lives in the catalog's LMDB environment (named DB "keys") so the server, the CLI and the admin
 * endpoint see one set of keys: a key minted or revoked by `txrank keys` in another process takes effect in
 * the running server without a restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TxrankError } from '../errors/codes.js';
export const KEY_PREFIX = 'txr_';
/** 32 random bytes as unpadded base64url. */
const KEY_RE = /^txr_[A-Za-z0-9_-]{43}$/;
/** Label of the keys the embedded default mints at every start; see mintDevelopmentKeys. */
export const DEV_KEY_LABEL = 'dev';
/** A shorter prefix could match several keys by accident and revoke more than meant. */
export const MIN_REVOKE_PREFIX = 8;
const MAX_LABEL_CHARS = 128;
export function hashKey(plaintext) {
    return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}
export function generateKey() {
    return KEY_PREFIX + randomBytes(32).toString('base64url');
}
export class KeyStore {
    #root;
    #db;
    #readOnly;
    /** Built by openStorage; the named DB must already exist (the read-write open creates it). */
    constructor(root, db, readOnly) {
        this.#root = root;
        this.#db = db;
        this.#readOnly = readOnly;
    }
    /** Mints a key and returns its plaintext; the only time the plaintext exists outside the caller. */
    async mint(role, tenant, label) {
        this.#writable();
        const record = makeRecord(role, tenant, label);
        const plaintext = generateKey();
        await this.#db.put(hashKey(plaintext), record);
        return plaintext;
    }
    /** The key's record, or null when it is unknown, revoked or malformed. Synchronous and constant-work. */
    verify(plaintext) {
        // A malformed string never reaches the hash: no work for garbage, and nothing odd is looked up.
        if (!KEY_RE.test(plaintext))
            return null;
        // A key revoked by another process (the CLI) must stop working now, not at this thread's next event
        // turn, when lmdb-js would otherwise renew its cached read snapshot.
        this.#root.resetReadTxn();
        return this.#db.get(hashKey(plaintext)) ?? null;
    }
    /**
     * Revokes every key whose label equals `labelOrHashPrefix`, and every key whose hash starts with it when it
     * is at least MIN_REVOKE_PREFIX lower-case hex digits. Returns how many keys were revoked.
     */
    async revoke(labelOrHashPrefix) {
        this.#writable();
        const arg = labelOrHashPrefix;
        const byPrefix = arg.length >= MIN_REVOKE_PREFIX && /^[0-9a-f]+$/.test(arg);
        // Read and delete in one write transaction, so a key minted concurrently by another process is either
        // seen and judged, or not touched.
        return this.#root.transaction(() => {
            // Collected first: deleting under a live cursor would move it.
            const doomed = [];
            for (const { key, value } of this.#db.getRange({})) {
                if (value.label === arg || (byPrefix && key.startsWith(arg)))
                    doomed.push(key);
            }
            for (const key of doomed)
                this.#db.removeSync(key);
            return doomed.length;
        });
    }
    /** Every key's record and hash, ordered by creation time. Never a plaintext: there is none to show. */
    list() {
        this.#root.resetReadTxn();
        const out = [];
        for (const { key, value } of this.#db.getRange({}))
            out.push({ hash: key, ...value });
        return out.sort((a, b) => a.createdAt - b.createdAt || (a.hash < b.hash ? -1 : 1));
    }
    /**
     * Revokes all previous development keys and mints one per tenant plus one admin key, in one transaction:
     * there is no moment when the old printed keys are gone and the new ones not yet valid, and an old printed
     * key never outlives the start that printed its successor.
     */
    async mintDevelopmentKeys(tenants) {
        this.#writable();
        const tenantKeys = {};
        const adminKey = generateKey();
        const records = [[hashKey(adminKey), makeRecord('admin', null, DEV_KEY_LABEL)]];
        for (const tenant of tenants) {
            const key = generateKey();
            tenantKeys[tenant] = key;
            records.push([hashKey(key), makeRecord('tenant', tenant, DEV_KEY_LABEL)]);
        }
        await this.#root.transaction(() => {
            const doomed = [];
            for (const { key, value } of this.#db.getRange({}))
                if (value.label === DEV_KEY_LABEL)
                    doomed.push(key);
            for (const key of doomed)
                this.#db.removeSync(key);
            for (const [hash, record] of records)
                this.#db.putSync(hash, record);
        });
        return { tenantKeys, adminKey };
    }
    #writable() {
        if (this.#readOnly)
            throw new TxrankError('internal', 'the key store was opened read-only');
    }
}
function makeRecord(role, tenant, label) {
    if (role === 'admin' && tenant !== null)
        throw new TxrankError('bad_request', 'an admin key has no tenant');
    if (role === 'tenant' && (tenant === null || tenant.length === 0 || tenant.length > 128)) {
        throw new TxrankError('bad_request', 'a tenant key needs a tenant id of 1..128 characters');
    }
    if (label.length === 0 || label.length > MAX_LABEL_CHARS) {
        throw new TxrankError('bad_request', `a key label must be 1..${MAX_LABEL_CHARS} characters`);
    }
    return { tenant, role, label, createdAt: Date.now() };
}
/** The embedded default's start-up step; see KeyStore.mintDevelopmentKeys. */
export function mintDevelopmentKeys(keys, tenants) {
    return keys.mintDevelopmentKeys(tenants);
}
