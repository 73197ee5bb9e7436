// The IndexedDB version steps, in order. Add a step as a new file NNN-name.js exporting
// { version, upgrade(db, tx, info) } and list it here; never edit a step that has shipped.
//
// Steps run inside the versionchange transaction of indexedDB.open: a step that throws
// aborts the whole upgrade, the database stays at its old version with its records, and the
// next open runs the missing steps again (resumable). Steps are written to be re-runnable.

import initial from './001-initial.js';
import blobs from './002-blobs.js';

/**
 * @typedef {{version: number,
 *            upgrade(db: IDBDatabase, tx: IDBTransaction, info: {oldVersion: number}): void}} Migration
 */

/** @type {readonly Migration[]} */
export const MIGRATIONS = Object.freeze([initial, blobs]);

/** The version the current code opens databases at. */
export const DB_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Checks that a list of steps has strictly increasing positive integer versions.
 * @param {readonly Migration[]} list
 */
export function checkMigrations(list) {
  let last = 0;
  for (const m of list) {
    if (!Number.isInteger(m.version) || m.version <= last || typeof m.upgrade !== 'function') {
      throw new Error(`parley storage: bad migration list at version ${m && m.version}`);
    }
    last = m.version;
  }
  return last;
}

/**
 * Runs the steps after `oldVersion` up to `newVersion`, in order (onupgradeneeded).
 * @param {readonly Migration[]} list @param {IDBDatabase} db @param {IDBTransaction} tx
 * @param {number} oldVersion @param {number} newVersion
 */
export function runMigrations(list, db, tx, oldVersion, newVersion) {
  for (const m of list) {
    if (m.version > oldVersion && m.version <= newVersion) m.upgrade(db, tx, { oldVersion });
  }
}
