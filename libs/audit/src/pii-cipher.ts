import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 16;

/** A tenant's data key and its id (the `audit_keys` row it is stored in, wrapped). */
export interface DataKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * AES-256-GCM with the tenant id as associated data: a blob moved to another tenant does not
 * open. Layout: version (1 byte) || iv (12) || tag (16) || ciphertext. Wraps data keys under the
 * master key.
 */
export function seal(key: Buffer, tenantId: string, plaintext: Buffer): Buffer {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(tenantId, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/**
 * A random IV, never handed out twice: cut from a block of CSPRNG output drawn for 512 of them
 * (each block a new buffer, so an IV already handed out is never overwritten). One `randomBytes`
 * call per seal cost 2-3 µs on every audited write (a call into OpenSSL each time); Node's own
 * `randomUUID` batches its entropy the same way.
 */
let ivBlock = Buffer.alloc(0);
let ivOffset = 0;

function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivBlock.length) {
    ivBlock = randomBytes(IV_BYTES * 512);
    ivOffset = 0;
  }
  const iv = ivBlock.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** The plaintext, or an error when the blob was not sealed with this key for this tenant. */
export function open(key: Buffer, tenantId: string, sealed: Buffer): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) throw new Error('not a sealed audit blob');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(tenantId, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
}

/** Personal data sealed under a data key: key id (16 bytes) || `seal(...)`, so a reader knows which key opens it. */
export function sealPersonal(dataKey: DataKey, tenantId: string, plaintext: Buffer): Buffer {
  return Buffer.concat([Buffer.from(dataKey.id.replace(/-/g, ''), 'hex'), seal(dataKey.key, tenantId, plaintext)]);
}

/** The personal data, or null when the key that sealed it is gone (shredded). */
export function openPersonal(keys: ReadonlyMap<string, Buffer>, tenantId: string, sealed: Buffer): Buffer | null {
  if (sealed.length <= KEY_ID_BYTES) return null;
  const hex = sealed.subarray(0, KEY_ID_BYTES).toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const key = keys.get(id);
  return key ? open(key, tenantId, sealed.subarray(KEY_ID_BYTES)) : null;
}
