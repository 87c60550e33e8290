import { BulkheadConfig } from '@bulkhead/config';
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface StoredAuditKeys {
  /** Wraps every tenant's data key (AES-256-GCM); never stored in the database. */
  masterKey: string;
  /** Ed25519, signs chain-head checkpoints and impersonation grants. */
  signingKey: string;
  keyId: string;
}

/** The deployment's audit secrets, kept outside the database. */
export class AuditKeys {
  constructor(
    readonly masterKey: Buffer,
    readonly signingKey: KeyObject,
    readonly publicKey: KeyObject,
    readonly keyId: string,
  ) {}

  /**
   * Reads `AUDIT_KEY_FILE`; outside production a missing file is created (0600). In production a
   * missing file stops the process: a fresh master key would make every stored personal datum
   * unreadable, and a fresh signing key would break the line of checkpoints.
   */
  static load(config: BulkheadConfig): AuditKeys {
    const stored = readOrCreate(config.AUDIT_KEY_FILE, config.NODE_ENV !== 'production');
    const masterKey = Buffer.from(stored.masterKey, 'base64');
    if (masterKey.length !== 32) throw new Error(`${config.AUDIT_KEY_FILE}: masterKey must be 32 bytes (base64)`);
    const signingKey = createPrivateKey(stored.signingKey);
    if (signingKey.asymmetricKeyType !== 'ed25519') throw new Error(`${config.AUDIT_KEY_FILE}: signingKey must be an Ed25519 private key`);
    return new AuditKeys(masterKey, signingKey, createPublicKey(signingKey), stored.keyId);
  }
}

function readOrCreate(file: string, create: boolean): StoredAuditKeys {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredAuditKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      throw new Error(`AUDIT_KEY_FILE ${file} cannot be read: ${(error as Error).message}`);
    }
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const stored: StoredAuditKeys = {
    masterKey: randomBytes(32).toString('base64'),
    signingKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    keyId: randomUUID(),
  };
  mkdirSync(dirname(file), { recursive: true });
  // Written aside and linked into place: when two processes race, one file wins whole and both use it.
  const aside = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, JSON.stringify(stored), { mode: 0o600 });
  try {
    linkSync(aside, file);
    return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(readFileSync(file, 'utf8')) as StoredAuditKeys;
  } finally {
    unlinkSync(aside);
  }
}
