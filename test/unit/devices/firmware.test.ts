import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFirmware, findFirmware, readFirmwareFile, sha256, syntheticTestFirmware } from '../../../main/devices/firmware.ts';
import { FIRMWARE_SINGLE_EP } from '../../../main/devices/protocol.ts';

test('a firmware file that is not the real image is refused with both hashes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-'));
  const f = join(dir, 'apex_latest_single_ep.bin');
  const fake = syntheticTestFirmware();
  writeFileSync(f, fake);
  assert.throws(() => readFirmwareFile(f), (e: Error & { hint?: string }) =>
    e.message.includes(f) && e.message.includes(sha256(fake)) && e.message.includes(FIRMWARE_SINGLE_EP.sha256) && /--firmware/.test(e.hint ?? ''));
  assert.throws(() => readFirmwareFile(join(dir, 'missing.bin')), /does not exist/);
  assert.throws(() => findFirmware(f), /is not the Coral USB firmware/);
});

test('the known hash is the full SHA-256 of apex_latest_single_ep.bin (prefix/suffix from the reference)', () => {
  assert.match(FIRMWARE_SINGLE_EP.sha256, /^3b07311b[0-9a-f]{50}e3dc7f$/);
  assert.equal(FIRMWARE_SINGLE_EP.size, 10783);
});

test('extractFirmware scans a binary for the image by hash and ignores look-alikes', () => {
  const blob = new Uint8Array(30000);
  blob.set(syntheticTestFirmware(), 1000); // starts with 02 1e 57 but has the wrong hash
  assert.equal(extractFirmware(blob), undefined);
});
